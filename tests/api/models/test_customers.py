"""Customers, phones and known pickup addresses."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.models import Customer, CustomerPublic, Phone, PickupAddress, address_key


def test_one_customer_many_phones_each_number_once(session: Session) -> None:
    """A customer may have several numbers, but a number belongs to one customer only."""
    session.add_all([Customer(id="a"), Customer(id="b")])
    session.add_all(
        [
            Phone(e164="+79123456789", raw="8 912 345-67-89", customer_id="a"),
            Phone(e164="+74951234567", raw="8 (495) 123-45-67", customer_id="a"),
        ]
    )
    session.commit()
    assert len(session.exec(select(Phone).where(Phone.customer_id == "a")).all()) == 2
    session.add(Phone(e164="+79123456789", raw="+7 912 345 67 89", customer_id="b"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_history_json_round_trips(session: Session) -> None:
    """Valuation aggregates stored as JSON come back with the same floats and ints."""
    history = {"x": 3.25, "age_w": 10.5, "completed": 4, "phi": 0.0001234, "last_at": 1.7e9}
    session.add(Customer(id="a", history=history))
    session.commit()
    session.expunge_all()
    stored = session.get(Customer, "a")
    assert stored is not None and stored.history == history


def test_public_customer_hides_the_history(session: Session) -> None:
    """The public view of a customer carries counters, not the scorer's internals."""
    customer = Customer(id="a", display_name="Anna", history={"x": 1.0}, completed_count=2)
    public = CustomerPublic.model_validate(customer)
    assert public.completed_count == 2 and "history" not in public.model_dump()


def test_address_key_ignores_case_and_spacing() -> None:
    """`Lenina 5` and ` lenina   5 ` are the same pickup address."""
    assert address_key("  Ulitsa  LENINA 5 ") == address_key("ulitsa lenina 5")
    assert address_key("Lenina 5") != address_key("Lenina 7")


def test_an_address_is_known_once_per_customer(session: Session) -> None:
    """The same address key twice for one customer is refused; two customers may share it."""
    session.add_all([Customer(id="a"), Customer(id="b")])
    for customer_id in ("a", "b"):
        session.add(
            PickupAddress(
                customer_id=customer_id, text="Lenina 5", address_key="lenina 5", lat=56.8, lon=60.6
            )
        )
    session.commit()
    session.add(PickupAddress(customer_id="a", text="LENINA 5", address_key="lenina 5", lat=56.8, lon=60.6))
    with pytest.raises(IntegrityError):
        session.commit()
