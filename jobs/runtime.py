"""What a job process needs, set up once: settings, clock, Redis and the database.

Workers, the scheduler, the web app and `care demo` all call `runtime()`; jobs take
ids, and load everything else through it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

import redis as redis_lib

from app import clock as clock_mod
from app import config
from app.redis_client import connect

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: config.Settings
    redis: redis_lib.Redis
    sessions: Any  # sqlalchemy sessionmaker bound to the settings' database


@cache
def runtime() -> Runtime:
    """The process's runtime, built on first use from the environment."""
    settings = config.load()
    redis = connect(settings.redis_url, settings.data_dir)
    install_clock(settings, redis)
    from app import db

    sessions = db.session_factory(db.make_engine(settings.database_url))
    logger.info("runtime ready database=%s", settings.database_url.split("@")[-1])
    return Runtime(settings=settings, redis=redis, sessions=sessions)


def install_clock(settings: config.Settings, redis: redis_lib.Redis) -> None:
    """Use the simulated clock in Redis when CARE_CLOCK=redis (demo and replay)."""
    if settings.clock == "redis":
        clock_mod.set_clock(clock_mod.RedisClock(redis))
