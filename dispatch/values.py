"""`record`: the core's value classes, immutable to the type checker, cheap to build.

Commands, decisions, orders, positions and scores are values: built once, read
many times, never changed. They used to be frozen dataclasses, which enforce
that at run time by routing every field of every `__init__` through
`object.__setattr__` (or, with the former `fast_init`, through each slot's
descriptor): about 1.1 µs for a six-field decision against 0.4 µs for a plain
slotted one. The simulator builds about fifteen of them per simulated order, and
they were the largest single item of a `city` run's profile (7% of it after the
spatial searches were rewritten).

A `record` is a slotted dataclass with value equality and a hash over its
fields, exactly as a frozen one has, built by a plain `__init__`. Immutability is
declared to the type checker instead (`dataclass_transform(frozen_default=True)`):
`mypy --strict`, which CI runs on `dispatch`, `valuation`, `simulator` and `demo`,
rejects any assignment to a field, and `dataclasses.replace` is the way to a
changed copy, as before. What is given up is the run-time error for code the
type checker does not see; nothing in the project assigns to a value, and a
test keeps the type checker's verdict honest (tests/dispatch/test_values.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True)
def record(cls: type[T]) -> type[T]:
    """A slotted dataclass with value equality and a field hash, immutable to mypy."""
    return dataclass(slots=True, eq=True, unsafe_hash=True)(cls)
