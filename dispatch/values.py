"""A faster constructor for the core's frozen, slotted dataclasses.

A frozen dataclass's generated `__init__` sets each field through
`object.__setattr__`, about three times slower than a plain one. The simulator
builds several commands and decisions per simulated call, tens of millions
per study, so that cost showed up as the largest single item in its profile.
`fast_init` swaps in an `__init__` that writes each slot through its member
descriptor: instances stay exactly as frozen, equal, hashable and picklable.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, TypeVar

T = TypeVar("T")


def fast_init(cls: type[T]) -> type[T]:
    """Replace a frozen slotted dataclass's __init__ with a descriptor-writing one."""
    if not hasattr(cls, "__slots__") or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: fast_init needs slots and no __post_init__")
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    namespace: dict[str, Any] = {}
    params = []
    for field in fields(cls):  # type: ignore[arg-type]
        if field.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{field.name}: fast_init takes no default_factory")
        namespace[f"_set_{field.name}"] = getattr(cls, field.name).__set__
        if field.default is MISSING:
            params.append(field.name)
        else:
            namespace[f"_default_{field.name}"] = field.default
            params.append(f"{field.name}=_default_{field.name}")
    body = "".join(f"    _set_{name}(self, {name})\n" for name in names) or "    pass\n"
    exec(f"def __init__(self, {', '.join(params)}):\n{body}", namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
