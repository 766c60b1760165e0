"""Everything `care demo` runs, started on this machine and stopped at the end.

Real parts only: an embedded Redis (or REDIS_URL's), SQLite in the data folder (or
DATABASE_URL's database), both sandbox ledgers, the Twilio stand-in and an SMTP server
on local ports, the web app, and RQ worker processes. They share one simulated clock
kept in Redis, which flows at the wall clock's pace and jumps a day at a time.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from rq import Queue
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from app import clock as clock_mod
from app import db
from app.redis_client import connect
from connectors.records import Ledger
from connectors.sandbox.generator import generate
from connectors.sandbox.quickbooks import QuickBooksSandbox
from connectors.sandbox.server import ServerThread
from connectors.sandbox.smtp import MailSink
from connectors.sandbox.twilio.sandbox import TwilioSandbox
from connectors.sandbox.xero import XeroSandbox
from jobs.queues import QUEUES

logger = logging.getLogger(__name__)

QBO_VERIFIER = "TESTONLY-demo-qbo-verifier-token"
MAX_CATCH_UP_MINUTES = 30
XERO_WEBHOOK_KEY = "TESTONLY-demo-xero-webhook-key"
LEDGERS = ("quickbooks", "xero")


@dataclass
class Stack:
    data_dir: Path
    start_day: date
    invoices: int = 400
    seed: int = 7
    port: int = 0
    workers: int = 2
    # Which sandbox ledgers run, and what fills them: by default generated books in
    # both; `care replay` starts one and loads a support case's own payloads.
    ledgers: tuple[str, ...] = LEDGERS
    populate: Callable[[Stack], None] | None = None
    start_at: datetime | None = None  # the clock's first instant (default 04:00 UTC)
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    servers: list[Any] = field(default_factory=list)

    def start(self) -> Stack:
        """Start every part; the order matters only where URLs are handed on."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        self.port = self.port or _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"

        self.redis = connect(os.environ.get("REDIS_URL", ""), self.data_dir)
        self.redis.flushdb()
        self.clock = clock_mod.RedisClock(self.redis)
        unknown = set(self.ledgers) - set(LEDGERS)
        if unknown or not self.ledgers:
            raise ValueError(f"ledgers must be some of {LEDGERS}, got {self.ledgers}")
        self.clock.set(
            self.start_at or datetime.combine(self.start_day, dtime(4, 0), tzinfo=UTC)
        )
        clock_mod.set_clock(self.clock)

        self._sandboxes()
        self.mail = MailSink().start()
        self.servers.append(self.mail)
        self._environment()
        db.upgrade(self.env["DATABASE_URL"])
        self._web()
        for n in range(self.workers):
            self.start_worker(n)
        return self

    def _sandboxes(self) -> None:
        if "quickbooks" in self.ledgers:
            self.qbo = QuickBooksSandbox(
                clock=self.clock,
                redirect_uris=(f"{self.base_url}/connect/quickbooks/callback",),
                verifier_token=QBO_VERIFIER,
                webhook_url=f"{self.base_url}/webhooks/quickbooks",
                rate_limits=True,
                seed=self.seed,
            )
        if "xero" in self.ledgers:
            self.xero = XeroSandbox(
                clock=self.clock,
                redirect_uris=(f"{self.base_url}/connect/xero/callback",),
                webhook_key=XERO_WEBHOOK_KEY,
                webhook_url=f"{self.base_url}/webhooks/xero",
                rate_limits=True,
                seed=self.seed,
            )
        if self.populate is not None:
            self.populate(self)
        else:
            self._generated_books()
        self.twilio = TwilioSandbox(seed=self.seed)
        if "quickbooks" in self.ledgers:
            self.qbo_server = self.qbo.start()
            self.servers.append(self.qbo_server)
        if "xero" in self.ledgers:
            self.xero_server = self.xero.start()
            self.servers.append(self.xero_server)
        self.twilio_server = self.twilio.start()
        self.servers.append(self.twilio_server)

    def _generated_books(self) -> None:
        qbo_books = generate(
            seed=self.seed,
            invoices=self.invoices,
            today=self.start_day,
            ledger=Ledger.QUICKBOOKS,
            home_currency="USD",
            timezone="America/New_York",
        )
        xero_books = generate(
            seed=self.seed + 1,
            invoices=self.invoices,
            today=self.start_day,
            ledger=Ledger.XERO,
            home_currency="NZD",
            timezone="Pacific/Auckland",
        )
        self.realm = self.qbo.load_generated(qbo_books)
        self.tenant = self.xero.load_generated(xero_books)
        self.books = {"quickbooks": qbo_books, "xero": xero_books}

    def _environment(self) -> None:
        key_file = self.data_dir / "demo-encryption.key"
        if not key_file.exists():
            key_file.write_text(Fernet.generate_key().decode())
        database_url = os.environ.get("DATABASE_URL") or (
            f"sqlite:///{self.data_dir / 'care.db'}"
        )
        self.env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": os.environ["REDIS_URL"],
            "CARE_CLOCK": "redis",
            "CARE_DATA_DIR": str(self.data_dir),
            "CARE_LETTERS_DIR": str(self.data_dir / "letters"),
            "CARE_ENCRYPTION_KEYS": key_file.read_text().strip(),
            "CARE_BASE_URL": self.base_url,
            "SECRET_KEY": os.environ.get(
                "SECRET_KEY", "demo-secret-key-not-for-production"
            ),
            "OAUTHLIB_INSECURE_TRANSPORT": "1",  # the sandboxes speak plain http
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.mail.port),
            "MAIL_FROM": "CARE Pre-Collections <collections@care.example>",
            "TWILIO_ACCOUNT_SID": self.twilio.account_sid,
            "TWILIO_AUTH_TOKEN": self.twilio.auth_token,
            "TWILIO_FROM": self.twilio.numbers[0],
            "TWILIO_BASE_URL": self.twilio_server.url,
        }
        if "quickbooks" in self.ledgers:
            qbo = self.qbo_server.url
            self.env |= {
                "QBO_CLIENT_ID": self.qbo.client_id,
                "QBO_CLIENT_SECRET": self.qbo.client_secret,
                "QBO_REDIRECT_URI": f"{self.base_url}/connect/quickbooks/callback",
                "QBO_WEBHOOK_KEY": QBO_VERIFIER,
                "QBO_DISCOVERY_URL": f"{qbo}/.well-known/openid_configuration",
                "QBO_API_BASE": f"{qbo}/v3",
                "QBO_WEB_BASE": qbo,
            }
        if "xero" in self.ledgers:
            xero = self.xero_server.url
            self.env |= {
                "XERO_CLIENT_ID": self.xero.client.client_id,
                "XERO_CLIENT_SECRET": self.xero.client.client_secret,
                "XERO_REDIRECT_URI": f"{self.base_url}/connect/xero/callback",
                "XERO_WEBHOOK_KEY": XERO_WEBHOOK_KEY,
                "XERO_AUTHORIZE_URL": f"{xero}/identity/connect/authorize",
                "XERO_TOKEN_URL": f"{xero}/connect/token",
                "XERO_REVOKE_URL": f"{xero}/connect/revocation",
                "XERO_IDENTITY_BASE": xero,
                "XERO_API_BASE": f"{xero}/api.xro/2.0",
                "XERO_WEB_BASE": xero,
            }
        os.environ.update(self.env)
        from jobs import runtime

        runtime.runtime.cache_clear()

    def _web(self) -> None:
        from app.web import create_app

        self.web = ServerThread(create_app(), port=self.port).start()
        self.servers.append(self.web)

    def start_worker(self, n: int) -> subprocess.Popen[bytes]:
        log = open(self.data_dir / "logs" / f"worker-{n}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "app.cli",
                "worker",
                "--name",
                f"demo-{n}-{time.time_ns()}",
            ],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def kill(self, pid: int) -> None:
        """SIGKILL a process: a worker dying mid-job, as a crash would."""
        os.kill(pid, signal.SIGKILL)

    def idle(self, timeout: float = 300.0) -> None:
        """Wait until no job is queued, running or scheduled to run within a minute."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._busy() == 0:
                return
            time.sleep(0.1)
        raise TimeoutError(f"jobs still running after {timeout:.0f} s")

    def busy(self) -> int:
        """Jobs queued, running, or scheduled to run within a minute."""
        return self._busy()

    def _busy(self) -> int:
        busy = 0
        for name in QUEUES:
            queue = Queue(name, connection=self.redis)
            busy += queue.count
            busy += len(StartedJobRegistry(queue=queue).get_job_ids())
            # Retries due within a minute count; a retry ten minutes out does not.
            soon = time.time() + 60
            busy += self.redis.zcount(ScheduledJobRegistry(queue=queue).key, 0, soon)
        return busy

    def catch_up(
        self, connection_ids: list[int], wait: Any, minutes: int = MAX_CATCH_UP_MINUTES
    ) -> int:
        """Let simulated minutes pass while work waits for a ledger's minute limit.

        A burst of sends at 09:00 needs more calls than Xero allows in one minute;
        the jobs give way (WaitError) and run again in the following minutes.
        Returns the minutes that passed.
        """
        from jobs.tick import dispatch_due, work_due
        from jobs.writes import enqueue_writes

        for passed in range(minutes):
            if not work_due():
                return passed
            self.clock.advance(timedelta(seconds=61))
            dispatch_due()
            for connection_id in connection_ids:
                enqueue_writes(connection_id)
            wait()
        return minutes

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for server in reversed(self.servers):
            try:
                server.stop()
            except Exception:  # noqa: BLE001 - stopping what may already be gone
                logger.debug("stop failed for %s", server)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
