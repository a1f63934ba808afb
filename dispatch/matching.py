"""The two structures matching needs, as protocols, so spatial and zone modes swap freely."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterator
from typing import Protocol

from dispatch.model import Position


class FreeCars(Protocol):
    """Free cars, answering "which car should take an order here?"."""

    @property
    def ids(self) -> Collection[str]:
        """The free cars' ids as a built-in collection: its `len` and `in`, asked several
        times per order, cost no Python frame (`len(index)` would call `__len__`)."""
        ...

    def upsert(self, driver_id: str, position: Position) -> None: ...

    def remove(self, driver_id: str) -> None: ...

    def __contains__(self, driver_id: object) -> bool: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[str]: ...

    def nearest(
        self, p: Position, k: int = 1, radius_m: float = math.inf
    ) -> list[tuple[float, str]]: ...


class Waiting(Protocol):
    """Waiting orders, answering "which order should this freed car take?"."""

    def __len__(self) -> int: ...

    def __contains__(self, order_id: object) -> bool: ...

    def push(
        self, order_id: str, pickup: Position, due_at: float, head_start_s: float, seq: int
    ) -> float: ...

    def remove(self, order_id: str) -> None: ...

    def reprioritise(self, order_id: str, head_start_s: float) -> float: ...

    def key_of(self, order_id: str) -> tuple[float, int]: ...

    def in_service_order(self) -> Iterator[tuple[float, int, str]]: ...

    def best_for(
        self, position: Position, radius_m: float, acceptable: Callable[[str], bool]
    ) -> str | None: ...
