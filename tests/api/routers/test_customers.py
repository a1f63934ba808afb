"""Customers over HTTP: lookup in any format, history and score, forgetting personal data."""

from __future__ import annotations

from sqlmodel import select

from api.models import Call, Customer, Order, Phone, PickupAddress, Role
from tests.api.app_fixtures import Live

FORMATS = ["8 (912) 345-67-89", "+7 912 345 67 89", "79123456789", "tel:+79123456789"]


async def test_lookup_finds_one_customer_from_any_common_format(live: Live) -> None:
    """The national, international and bare forms are one caller."""
    order = await live.order(phone=FORMATS[0], pickup_address="Tverskaya 1")
    for text in FORMATS:
        response = await live.get("/customers/lookup", params={"phone": text})
        assert response.status_code == 200, text
        card = response.json()
        assert card["customer"]["id"] == order["customer_id"]
        assert card["active_order"]["id"] == order["id"]
        assert [a["text"] for a in card["addresses"]] == ["Tverskaya 1"]


async def test_customer_detail_has_history_score_and_recent_orders(live: Live) -> None:
    """The score is computed now from stored aggregates; a recent failure shows as at risk."""
    order = await live.order(phone="+79123456789")
    await live.post(f"/orders/{order['id']}/cancel", json={"cause": "no_car"})
    detail = (await live.get(f"/customers/{order['customer_id']}", role=Role.ANALYST)).json()
    assert detail["history"]["failed"] == 1 and detail["customer"]["failed_count"] == 1
    assert detail["score"]["tier"] == "at risk" and detail["score"]["head_start_s"] > 0
    assert [o["id"] for o in detail["recent_orders"]] == [order["id"]]
    assert detail["active_order"] is None


async def test_forgetting_erases_personal_data_and_keeps_aggregates(live: Live) -> None:
    """Name, numbers, addresses, order texts and call numbers go; counters and outcomes stay."""
    order = await live.order(phone="+79123456789", pickup_address="Tverskaya 1")
    ring = {"event": "call.ringing", "call_id": "c9", "from": "+79123456789"}
    await live.post("/phone/events", role=Role.PHONE, json=ring)
    await live.post(f"/orders/{order['id']}/cancel", json={})
    customer_id = order["customer_id"]
    response = await live.client.delete(
        f"/customers/{customer_id}/personal-data", headers=live.auth(Role.ADMIN)
    )
    assert response.status_code == 200 and response.json()["erased"]["phones"] == 1
    with live.session() as session:
        customer = session.get(Customer, customer_id)
        assert (
            customer is not None
            and customer.forgotten_at is not None
            and customer.display_name is None
        )
        assert customer.cancelled_count == 1 and customer.history["orders"] == 1
        assert session.exec(select(Phone).where(Phone.customer_id == customer_id)).all() == []
        assert (
            session.exec(
                select(PickupAddress).where(PickupAddress.customer_id == customer_id)
            ).all()
            == []
        )
        row = session.get(Order, order["id"])
        assert row is not None and row.pickup_address is None and row.caller_e164 is None
        assert row.status == "cancelled"
        call = session.exec(select(Call)).one()
        assert call.caller_raw is None and call.caller_e164 is None
    gone = await live.get("/customers/lookup", params={"phone": "+79123456789"})
    again = await live.client.delete(
        f"/customers/{customer_id}/personal-data", headers=live.auth(Role.ADMIN)
    )
    assert gone.status_code == 404 and again.status_code == 409


async def test_a_forgotten_number_calling_again_is_a_new_customer(live: Live) -> None:
    """After erasure nothing links the number to the old aggregates."""
    first = await live.order(phone="+79123456789")
    await live.post(f"/orders/{first['id']}/cancel", json={})
    await live.client.delete(
        f"/customers/{first['customer_id']}/personal-data", headers=live.auth(Role.ADMIN)
    )
    second = await live.order(phone="+79123456789")
    assert second["customer_id"] != first["customer_id"] and second["tier"] == "new"


async def test_an_order_names_an_unnamed_customer_and_adds_a_new_number(live: Live) -> None:
    """customer_name fills an empty name only; a known customer's second number is remembered."""
    first = await live.order(phone="+79123456789", customer_name="Anna")
    await live.post(f"/orders/{first['id']}/cancel", json={})
    second = await live.order(
        customer_id=first["customer_id"], phone="+79123450000", customer_name="X"
    )
    card = (await live.get("/customers/lookup", params={"phone": "8 912 345-00-00"})).json()
    assert second["customer_id"] == first["customer_id"] == card["customer"]["id"]
    assert card["customer"]["display_name"] == "Anna"
    assert sorted(p["e164"] for p in card["phones"]) == ["+79123450000", "+79123456789"]
