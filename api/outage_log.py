"""One warning per store outage and a running count, instead of a traceback per failed attempt.

While the database is unreachable, something retries every second: the
dispatcher's tick rebuilds the engine, every console page reconnects. A
traceback for each attempt buries the one line that matters (the store is
gone, since when) and fills the disk. So an outage is logged when it starts,
summarised every `SUMMARY_EVERY_S` while it lasts (how long, how many
attempts failed), and once more when it ends. A known store error
(SQLAlchemy's) gets its message; anything else is a bug and keeps its
traceback, once per outage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

SUMMARY_EVERY_S = 60.0


class OutageLog:
    """Counts failures of one kind of attempt (`what`) while the store is down."""

    def __init__(
        self, logger: logging.Logger, what: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._log, self._what, self._clock = logger, what, clock
        self.failures = 0  # in the current outage
        self._since: float | None = None
        self._summarised_at = 0.0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> None:
        now = self._clock()
        self.failures += 1
        if self._since is None:
            self._since, self._summarised_at = now, now
            known = isinstance(error, SQLAlchemyError)
            self._log.warning(
                "%s failed: the store is unreachable (%s: %s); logged again once a minute while it lasts",
                self._what,
                type(error).__name__,
                str(error).splitlines()[0] if str(error) else "",
                exc_info=None if known else error,
            )
        elif now - self._summarised_at >= SUMMARY_EVERY_S:
            self._summarised_at = now
            self._log.warning(
                "%s: the store is still unreachable after %.0f s; %d failed so far",
                self._what,
                now - self._since,
                self.failures,
            )

    def recovered(self) -> None:
        if self._since is None:
            return
        self._log.warning(
            "%s: the store answers again after %.0f s; %d failed during the outage",
            self._what,
            self._clock() - self._since,
            self.failures,
        )
        self._since, self.failures = None, 0
