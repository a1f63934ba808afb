"""Operators' notes on a customer over HTTP, on SQLite and PostgreSQL: set, read, cleared by erasure."""

from __future__ import annotations

from api.models import Customer, Role
from tests.api.app_fixtures import Live

NOTE = "Deaf: send a text, do not call. Lift at Lenina 5 is broken."


async def _customer(live: Live) -> str:
    order = await live.order(phone="+79123456789", pickup_address="Tverskaya 1")
    return str(order["customer_id"])


async def test_an_operator_writes_notes_that_the_card_and_the_detail_show(live: Live) -> None:
    """PUT notes stores the words with who and when; the lookup card and the detail carry them."""
    customer_id = await _customer(live)
    response = await live.client.put(f"/customers/{customer_id}/notes", json={"notes": NOTE},
                                     headers=live.auth(Role.OPERATOR))  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["notes"] == NOTE and response.json()["notes_updated_by"] == "operator:operator"
    card = (await live.get("/customers/lookup", params={"phone": "8 912 345-67-89"})).json()
    assert card["customer"]["notes"] == NOTE
    detail = (await live.get(f"/customers/{customer_id}")).json()
    assert detail["customer"]["notes"] == NOTE
    cleared = await live.client.put(f"/customers/{customer_id}/notes", json={"notes": "  "},
                                    headers=live.auth(Role.OPERATOR))  # fmt: skip
    assert cleared.status_code == 200 and cleared.json()["notes"] is None


async def test_notes_are_checked_and_only_staff_may_write_them(live: Live) -> None:
    """Too long or with control characters: a 422 naming `notes`; the phone role: 403; unknown: 404."""
    customer_id = await _customer(live)
    put = live.client.put
    long = await put(
        f"/customers/{customer_id}/notes", json={"notes": "x" * 2001}, headers=live.auth(Role.OPERATOR)
    )
    assert long.status_code == 422 and "notes" in long.text
    nul = await put(
        f"/customers/{customer_id}/notes", json={"notes": "a\x00b"}, headers=live.auth(Role.OPERATOR)
    )
    assert nul.status_code == 422 and "notes" in nul.text
    phone = await put(f"/customers/{customer_id}/notes", json={"notes": NOTE}, headers=live.auth(Role.PHONE))
    assert phone.status_code == 403
    unknown = await put("/customers/nobody/notes", json={"notes": NOTE}, headers=live.auth(Role.OPERATOR))
    assert unknown.status_code == 404


async def test_erasure_removes_the_notes_and_refuses_new_ones(live: Live) -> None:
    """DELETE personal-data blanks notes and who wrote them; a later PUT is a 409, not a write."""
    customer_id = await _customer(live)
    await live.client.put(
        f"/customers/{customer_id}/notes", json={"notes": NOTE}, headers=live.auth(Role.OPERATOR)
    )
    erased = await live.client.delete(
        f"/customers/{customer_id}/personal-data", headers=live.auth(Role.ADMIN)
    )
    assert erased.status_code == 200, erased.text
    with live.session() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None and customer.notes is None and customer.notes_updated_by is None
    again = await live.client.put(f"/customers/{customer_id}/notes", json={"notes": NOTE},
                                  headers=live.auth(Role.OPERATOR))  # fmt: skip
    assert again.status_code == 409
    detail = (await live.get(f"/customers/{customer_id}")).json()
    assert NOTE not in str(detail)
