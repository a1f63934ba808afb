"""The call log and its retention purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.models import Call, CallOutcome, CallPublic
from api.models.calls import purge_calls_before

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_purge_removes_only_calls_older_than_the_cutoff(session: Session) -> None:
    """Calls that rang before the cutoff are deleted; newer ones stay."""
    for days in (200, 91, 89, 1):
        session.add(Call(external_id=f"t:{days}", ringing_at=NOW - timedelta(days=days)))
    session.commit()
    assert purge_calls_before(session, NOW - timedelta(days=90)) == 2
    session.commit()
    left = sorted(call.external_id for call in session.exec(select(Call)).all())
    assert left == ["t:1", "t:89"]


def test_one_row_per_provider_call(session: Session) -> None:
    """Two rows for the same provider call id are refused, so events land on one row."""
    session.add(Call(external_id="twilio:CA1", ringing_at=NOW))
    session.commit()
    session.add(Call(external_id="twilio:CA1", ringing_at=NOW))
    with pytest.raises(IntegrityError):
        session.commit()


def test_public_call_outcome_is_an_enum() -> None:
    """The stored outcome string reads back as a CallOutcome (None while in progress)."""
    call = Call(id=1, external_id="x", ringing_at=NOW, outcome="abandoned")
    assert CallPublic.model_validate(call).outcome is CallOutcome.ABANDONED
    assert CallPublic.model_validate(Call(id=2, external_id="y", ringing_at=NOW)).outcome is None
