"""Notes and the confirm-before-serving flag over HTTP, on SQLite and PostgreSQL, and their erasure."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from api.caller_index import CallerIndex
from api.models import Customer, Order, Role
from tests.api.app_fixtures import CENTRE, Live

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


async def _flag(
    live: Live, customer_id: str, on: bool, reason: str, role: Role = Role.OPERATOR
) -> dict[str, Any]:
    response = await live.client.put(
        f"/customers/{customer_id}/flag",
        json={"confirm_required": on, "reason": reason},
        headers=live.auth(role),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_order_for_a_flagged_caller_needs_an_explicit_confirmation(live: Live) -> None:
    """Flagged: POST /orders without `confirmed` is a 422 naming `confirmed` (the phone system's too),
    nothing is stored; with `confirmed: true` it is taken and the log says who confirmed."""
    customer_id = await _customer(live)
    flagged = await _flag(live, customer_id, True, "two no-shows in November")
    assert flagged["confirm_required"] is True and flagged["confirm_reason"] == "two no-shows in November"
    with live.session() as session:
        before = len(session.exec(select(Order)).all())
    for role in (Role.OPERATOR, Role.PHONE):
        body = {
            "pickup_lat": CENTRE[0],
            "pickup_lon": CENTRE[1],
            "phone": "8 912 345-67-89",
            "allow_duplicate": True,
        }
        refused = await live.post("/orders", role=role, json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["body", "confirmed"]
        assert "two no-shows" in refused.text
    with live.session() as session:
        assert len(session.exec(select(Order)).all()) == before
    taken = await live.order(phone="8 912 345-67-89", allow_duplicate=True, confirmed=True)
    events = (await live.get(f"/orders/{taken['id']}/events")).json()
    assert [e["actor"] for e in events if e["kind"] == "confirmed"] == ["operator:operator"]
    card = (await live.get("/customers/lookup", params={"phone": "+79123456789"})).json()
    assert card["customer"]["confirm_required"] is True


async def test_the_flag_is_audited_and_clearing_it_lets_orders_through(live: Live) -> None:
    """Set and clear each need a reason (422 naming `reason` without one); the audit lists who, when,
    why, newest first; once cleared an order needs no confirmation."""
    customer_id = await _customer(live)
    flag = {"confirm_required": True, "reason": " "}
    blank = await live.client.put(
        f"/customers/{customer_id}/flag", json=flag, headers=live.auth(Role.OPERATOR)
    )
    assert blank.status_code == 422 and "reason" in blank.text
    await _flag(live, customer_id, True, "threatened a driver")
    live.clock.advance(60)
    cleared = await _flag(live, customer_id, False, "apologised, manager agreed", role=Role.ADMIN)
    assert cleared["confirm_required"] is False and cleared["confirm_reason"] is None
    audit = (await live.get(f"/customers/{customer_id}/flag-events", role=Role.ANALYST)).json()
    assert [(e["confirm_required"], e["reason"], e["actor"]) for e in audit] == [
        (False, "apologised, manager agreed", "admin:admin"),
        (True, "threatened a driver", "operator:operator"),
    ]
    assert audit[0]["at"] > audit[1]["at"]
    await live.order(phone="8 912 345-67-89", allow_duplicate=True)
    assert (await live.get("/customers/nobody/flag-events")).status_code == 404


async def test_erasure_clears_the_flag_and_blanks_the_reasons_of_its_audit(live: Live) -> None:
    """After DELETE personal-data the flag and its reason are gone; the audit keeps who and when."""
    customer_id = await _customer(live)
    await _flag(live, customer_id, True, "lives at Lenina 5, never pays")
    erased = await live.client.delete(
        f"/customers/{customer_id}/personal-data", headers=live.auth(Role.ADMIN)
    )
    assert erased.status_code == 200, erased.text
    audit = (await live.get(f"/customers/{customer_id}/flag-events")).json()
    assert [(e["actor"], e["reason"]) for e in audit] == [("operator:operator", None)]
    with live.session() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None and not customer.confirm_required and customer.confirm_reason is None
    flag = {"confirm_required": True, "reason": "x"}
    refused = await live.client.put(
        f"/customers/{customer_id}/flag", json=flag, headers=live.auth(Role.OPERATOR)
    )
    assert refused.status_code == 409


async def test_the_next_ring_sees_new_notes_and_a_new_flag(live: Live) -> None:
    """The caller index (what a ring's card is built from) reads the customer again after each change:
    the writer tells it before it answers, so the very next ring has the notes and the flag."""
    customer_id = await _customer(live)
    index: CallerIndex = live.app.state.caller_index
    await live.client.put(
        f"/customers/{customer_id}/notes", json={"notes": NOTE}, headers=live.auth(Role.OPERATOR)
    )
    await index.current(5.0)
    known = index.lookup("+79123456789")
    assert known is not None and known.customer.notes == NOTE
    await _flag(live, customer_id, True, "two no-shows")
    await index.current(5.0)
    known = index.lookup("+79123456789")
    assert (
        known is not None
        and known.customer.confirm_required
        and known.customer.confirm_reason == "two no-shows"
    )
