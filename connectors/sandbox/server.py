"""What both sandbox ledgers share: a request log, fault controls, rate-limit windows
on the injectable clock, and a way to run a Flask app in-process on a free port."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask, Response, g, request
from werkzeug.serving import BaseWSGIServer, make_server

from app import clock as clock_mod

logger = logging.getLogger(__name__)

# serve_forever notices shutdown() only between polls; at socketserver's default of
# 0.5 s every stop (a test's teardown, the demo's exit) waited up to half a second.
POLL_INTERVAL = 0.05


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    status: int
    at: datetime
    tenant: str | None = None  # realm id or Xero tenant id, where the call names one
    grant_type: str | None = None  # token endpoint calls only
    query: str = ""


class RequestLog:
    """Every request the sandbox answered, in order; tests count API calls with it."""

    def __init__(self) -> None:
        self._entries: list[LoggedRequest] = []
        self._lock = threading.Lock()

    def add(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def count(
        self,
        path_contains: str = "",
        method: str | None = None,
        grant_type: str | None = None,
    ) -> int:
        return sum(
            1
            for e in self.entries()
            if path_contains in e.path
            and (method is None or e.method == method)
            and (grant_type is None or e.grant_type == grant_type)
        )

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass
class Faults:
    """Fault controls for tests; all off by default."""

    rate_limits: bool = True
    error_rate: float = 0.0  # share of API calls answered with a 5xx
    latency: float = 0.0  # seconds added to every API call
    stall: float = 0.0  # seconds an API call hangs before answering (a timeout test)
    revoked: set[str] = field(default_factory=set)  # tokens the ledger now refuses
    seed: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def roll_error(self) -> bool:
        return self.error_rate > 0 and self._random.random() < self.error_rate


class WindowLimiter:
    """Calls per key in a sliding window of simulated time, plus calls in flight."""

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window
        self._calls: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: datetime) -> float | None:
        """Count a call; None if allowed, else the seconds until one would be."""
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - self.window:
                calls.popleft()
            if len(calls) >= self.limit:
                return max(1.0, (calls[0] + self.window - now).total_seconds())
            calls.append(now)
            return None

    def remaining(self, key: str, now: datetime) -> int:
        with self._lock:
            calls = self._calls.get(key, deque())
            return max(0, self.limit - sum(1 for c in calls if c > now - self.window))


class InFlight:
    """Concurrent requests per key, to answer the concurrency limit with a 429."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.peak: dict[str, int] = {}
        self._now: dict[str, int] = {}
        self._lock = threading.Lock()

    def enter(self, key: str) -> bool:
        with self._lock:
            if self._now.get(key, 0) >= self.limit:
                return False
            self._now[key] = self._now.get(key, 0) + 1
            self.peak[key] = max(self.peak.get(key, 0), self._now[key])
            return True

    def leave(self, key: str) -> None:
        with self._lock:
            self._now[key] = max(0, self._now.get(key, 0) - 1)


def install_request_log(
    app: Flask, log: RequestLog, tenant_of: Callable[[], str | None]
) -> None:
    """Log method, path and status of every request `app` answers."""

    @app.after_request
    def _log(response: Response) -> Response:
        grant = request.form.get("grant_type") if request.method == "POST" else None
        log.add(
            LoggedRequest(
                method=request.method,
                path=request.path,
                status=response.status_code,
                at=clock_mod.now(),
                tenant=getattr(g, "tenant", None) or tenant_of(),
                grant_type=grant,
                query=request.query_string.decode("utf-8", "replace"),
            )
        )
        return response


def apply_latency(faults: Faults) -> None:
    """Sleep as the fault controls say; real seconds, since the client waits in them."""
    if faults.stall:
        time.sleep(faults.stall)
    if faults.latency:
        time.sleep(faults.latency)


class ServerThread:
    """A WSGI app served on 127.0.0.1 in a daemon thread; port 0 picks a free one."""

    def __init__(self, app: Flask, port: int = 0, host: str = "127.0.0.1") -> None:
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL},
            name=f"sandbox-{self.port}",
            daemon=True,
        )

    def start(self) -> ServerThread:
        self._thread.start()
        logger.info("sandbox serving url=%s", self.url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
