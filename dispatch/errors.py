"""Domain errors. Raising one means the dispatcher changed nothing."""

from __future__ import annotations


class DomainError(Exception):
    """A command that cannot be applied to the current state."""


class UnknownOrder(DomainError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"unknown order {order_id!r}")
        self.order_id = order_id


class UnknownDriver(DomainError):
    def __init__(self, driver_id: str) -> None:
        super().__init__(f"unknown driver {driver_id!r}")
        self.driver_id = driver_id


class DuplicateOrder(DomainError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id!r} already exists")
        self.order_id = order_id


class InvalidTransition(DomainError):
    """The order or driver is in a state where this command makes no sense."""


class DriverBusy(InvalidTransition):
    def __init__(self, driver_id: str, status: str) -> None:
        super().__init__(f"driver {driver_id!r} is {status}, not free")
        self.driver_id = driver_id


class InvalidCommand(DomainError):
    """A command whose values are wrong in themselves (a negative head start, an empty reason)."""
