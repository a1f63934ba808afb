"""The outage log: one line per outage, a count while it lasts (a hand-moved clock)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

from api.outage_log import SUMMARY_EVERY_S, OutageLog


def test_an_outage_log_counts_refusals_and_says_when_it_ends(caplog: pytest.LogCaptureFixture) -> None:
    """One line at the start, a count each SUMMARY_EVERY_S, one line with the total at the end."""
    now = [0.0]
    outages = OutageLog(logging.getLogger("test"), "consoles", clock=lambda: now[0])
    caplog.set_level(logging.WARNING)
    outages.recovered()  # no outage yet: nothing to say
    for step in range(100):
        now[0] = step * SUMMARY_EVERY_S / 40
        outages.failed(ConnectionRefusedError())
    outages.recovered()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 4  # start, two summaries (at 60 s and 120 s), the end
    assert "100 failed during the outage" in messages[-1]


def test_an_unexpected_error_keeps_one_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """A store error is a known condition (message only); anything else is a bug (traceback, once)."""
    caplog.set_level(logging.WARNING)
    known = OutageLog(logging.getLogger("test"), "known")
    known.failed(OperationalError("SELECT 1", {}, ConnectionRefusedError("refused")))
    bug = OutageLog(logging.getLogger("test"), "bug")
    for _ in range(3):
        bug.failed(KeyError("oops"))
    assert [r.exc_info is not None for r in caplog.records] == [False, True]
