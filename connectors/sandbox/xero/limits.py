"""Xero's rate limits per tenant, on the injectable clock.

Per tenant: 60 calls in a rolling minute, 5,000 in a rolling day, 5 in flight; per app:
10,000 a minute (developer.xero.com/documentation/guides/oauth2/limits). Every answer
carries what is left in `X-DayLimit-Remaining`, `X-MinLimit-Remaining` and
`X-AppMinLimit-Remaining`; a refused call gets 429 with `Retry-After` (seconds) and
`X-Rate-Limit-Problem` naming the limit (minute, day, concurrent, appminute).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors.sandbox.server import InFlight, WindowLimiter

_APP = "app"


@dataclass(frozen=True)
class Refusal:
    problem: str  # minute, day, concurrent or appminute
    retry_after: int  # whole seconds


class RateLimits:
    """Counts calls per tenant and refuses those over a limit."""

    def __init__(
        self,
        per_minute: int = 60,
        per_day: int = 5000,
        concurrent: int = 5,
        app_per_minute: int = 10_000,
    ) -> None:
        self.minute = WindowLimiter(per_minute, timedelta(minutes=1))
        self.day = WindowLimiter(per_day, timedelta(days=1))
        self.app = WindowLimiter(app_per_minute, timedelta(minutes=1))
        self.in_flight = InFlight(concurrent)
        self._lock = threading.Lock()

    def enter(self, tenant: str, now: datetime, enforce: bool) -> Refusal | None:
        """Count one call for `tenant`; a Refusal when it is over a limit.

        When not enforcing, calls are still counted (the headers stay truthful) but
        none is refused. Call `leave` after answering every call that was admitted.
        """
        if not self.in_flight.enter(tenant) and enforce:
            return Refusal("concurrent", 1)
        with self._lock:
            checks = (
                ("day", self.day, tenant),
                ("minute", self.minute, tenant),
                ("appminute", self.app, _APP),
            )
            for problem, window, key in checks:
                if enforce and window.remaining(key, now) <= 0:
                    self.in_flight.leave(tenant)
                    return Refusal(problem, self._wait(window, key, now))
            for _, window, key in checks:
                window.take(key, now)
        return None

    def leave(self, tenant: str) -> None:
        """The call for `tenant` has been answered."""
        self.in_flight.leave(tenant)

    def headers(self, tenant: str, now: datetime) -> dict[str, str]:
        """The remaining-calls headers Xero puts on every answer."""
        return {
            "X-DayLimit-Remaining": str(self.day.remaining(tenant, now)),
            "X-MinLimit-Remaining": str(self.minute.remaining(tenant, now)),
            "X-AppMinLimit-Remaining": str(self.app.remaining(_APP, now)),
        }

    @staticmethod
    def _wait(window: WindowLimiter, key: str, now: datetime) -> int:
        # take() on a full window answers the seconds until its oldest call leaves.
        seconds = window.take(key, now)
        return max(1, math.ceil(seconds or 1))
