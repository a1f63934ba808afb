from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, dataclass, field

import pytest

from dispatch.decisions import OrderAssigned
from dispatch.values import fast_init


def test_fast_init_keeps_values_frozen_equal_hashable_and_picklable() -> None:
    """A fast-init decision behaves exactly like a plain frozen dataclass."""
    made = OrderAssigned("o1", "d1", 60.0, 500.0, 10.0)
    assert made == OrderAssigned("o1", "d1", 60.0, 500.0, 10.0, manual=False)
    assert made != OrderAssigned("o1", "d1", 60.0, 500.0, 10.0, manual=True)
    assert hash(made) == hash(OrderAssigned("o1", "d1", 60.0, 500.0, 10.0))
    assert pickle.loads(pickle.dumps(made)) == made
    with pytest.raises(FrozenInstanceError):
        made.eta_s = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        OrderAssigned("o1", "d1")  # type: ignore[call-arg]


def test_fast_init_refuses_classes_it_cannot_speed_up_safely() -> None:
    """Classes without slots, with __post_init__ or with a default_factory are refused."""

    @dataclass(frozen=True)
    class NoSlots:
        x: int

    @dataclass(frozen=True, slots=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True, slots=True)
    class Factory:
        xs: list[int] = field(default_factory=list)

    for cls in (NoSlots, Checked, Factory):
        with pytest.raises(TypeError):
            fast_init(cls)
