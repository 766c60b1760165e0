"""The walk in real headless Chromium: sign in, connect the QuickBooks sandbox, see
the invoices, refer one with one click, follow its case, log a call as the
representative. Screenshots of each main page go to artifacts/screenshots/.

Playwright drives Debian's chromium (`apt-get install -y chromium`). Under CI=true a
missing browser fails the run; elsewhere these tests skip and say how to install it.
The sync after connecting runs the real job function (`jobs.sync.sync_connection`)
in a thread, as a worker would, against the sandbox on its free port.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from app import config, referrals
from app.models import Creditor
from connectors.records import Ledger
from connectors.sandbox.generator import generate
from connectors.sandbox.quickbooks import QuickBooksSandbox
from tests.domain import factories
from tests.web.conftest import PASSWORD, password_hash

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
TODAY = date(2025, 5, 1)


def _browser_or_skip() -> Any:
    if not CHROMIUM.exists():
        message = (
            "headless Chromium not found at /usr/bin/chromium;"
            " install it with: sudo apt-get install -y chromium"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    return sync_playwright


class InlineJobs:
    """Runs a queued sync at once in a thread, as an RQ worker would run the job."""

    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions
        self.threads: list[threading.Thread] = []

    def enqueue_sync(self, connection_id: int, full: bool = False) -> None:
        def work() -> None:
            from jobs.sync import sync_connection

            sync_connection(connection_id, full)
            # The nightly sweep's first half: decide every invoice, refer nothing,
            # so the walk's one-click referral is the person's own.
            with self.sessions.begin() as session:
                from app.models import LedgerConnection

                row = session.get(LedgerConnection, connection_id)
                creditor = session.get(Creditor, row.creditor_id)
                referrals.evaluate_creditor(session, creditor, TODAY)

        thread = threading.Thread(target=work, name=f"sync-{connection_id}")
        thread.start()
        self.threads.append(thread)

    def enqueue_webhook(self, delivery_id: int) -> None:
        """Webhooks are not part of this walk."""


@dataclass
class Live:
    url: str
    sandbox: QuickBooksSandbox
    realm: str
    jobs: InlineJobs
    admin: str
    rep: str


@pytest.fixture
def live(
    monkeypatch, tmp_path, database_url, redis_url, sessions, keyring, clock
) -> Iterator[Live]:
    holder: dict[str, Any] = {}
    server = make_server(
        "127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True
    )
    url = f"http://127.0.0.1:{server.server_port}"
    sandbox = QuickBooksSandbox(
        clock=clock, seed=7, redirect_uris=(f"{url}/connect/quickbooks/callback",)
    )
    books = generate(seed=7, invoices=300, today=TODAY, ledger=Ledger.QUICKBOOKS)
    realm = sandbox.load_generated(books)
    ledger = sandbox.start(webhooks_in_background=False)

    environment = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CARE_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "TESTONLY-browser-secret",
        "CARE_BASE_URL": url,
        "QBO_CLIENT_ID": sandbox.client_id,
        "QBO_CLIENT_SECRET": sandbox.client_secret,
        "QBO_REDIRECT_URI": f"{url}/connect/quickbooks/callback",
        "QBO_DISCOVERY_URL": f"{ledger.url}/.well-known/openid_configuration",
        "QBO_API_BASE": f"{ledger.url}/v3",
        "QBO_WEBHOOK_KEY": sandbox.verifier_token,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    from jobs import runtime

    runtime.runtime.cache_clear()

    with sessions.begin() as session:
        creditor = factories.creditor(
            session, name="Harbour Lights Catering", timezone="America/Los_Angeles"
        )
        factories.user(
            session,
            "creditor_admin",
            creditor_id=creditor.id,
            email="owner@harbour.example",
            name="Hana Owner",
            password_hash=password_hash(),
        )
        factories.user(
            session,
            "representative",
            email="rita@care.example",
            name="Rita Representative",
            password_hash=password_hash(),
        )

    from app.web import create_app

    jobs = InlineJobs(sessions)
    holder["app"] = create_app(config.load(), sessions=sessions, enqueue=jobs)
    # shutdown() waits for serve_forever's next poll: 0.5 s apart by default.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield Live(url, sandbox, realm, jobs, "owner@harbour.example", "rita@care.example")
    server.shutdown()
    sandbox.stop()
    for worker in jobs.threads:
        worker.join(timeout=30)
    runtime.runtime.cache_clear()


@pytest.fixture
def page(live) -> Iterator[Any]:
    sync_playwright = _browser_or_skip()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(20_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # Console errors include Content-Security-Policy refusals and failed loads.
        page.on(
            "console",
            lambda message: (
                errors.append(message.text) if message.type == "error" else None
            ),
        )
        yield page
        browser.close()
        assert errors == [], f"errors in the pages: {errors}"


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Web fonts load once layout asks for them (font-display: swap), then settle.
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def wait_until(page: Any, expression: str, timeout: float = 20.0) -> None:
    """Poll `expression` until it is true.

    page.wait_for_function re-checks its expression through eval() in the page,
    which the app's Content-Security-Policy refuses (no 'unsafe-eval'): it passed
    only where the first check was already true. page.evaluate is not refused.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        page.wait_for_timeout(50)


def sign_in(page: Any, live: Live, email: str) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_walk_connect_refer_follow_and_log_a_call(page, live) -> None:
    page.goto(f"{live.url}/login")
    shot(page, "01-sign-in")
    sign_in(page, live, live.admin)
    page.wait_for_url(re.compile(r"/dashboard$"))

    # Connect: the real OAuth redirect to the sandbox and back.
    page.get_by_role("link", name="Connect to QuickBooks").first.click()
    page.wait_for_url(re.compile(r"/dashboard$"))
    assert "QuickBooks Online connected" in page.content()
    for worker in live.jobs.threads:
        worker.join(timeout=120)
    assert (
        live.sandbox.log.count("/oauth2/v1/tokens", grant_type="authorization_code")
        == 1
    )
    page.reload()
    page.get_by_text("sync idle").wait_for()
    shot(page, "02-dashboard")

    # Invoices, 31-60 days late, most late first.
    page.get_by_role("link", name="Invoices").first.click()
    page.get_by_role("navigation", name="Aging buckets").get_by_role(
        "link", name=re.compile("31-60 days")
    ).click()
    page.wait_for_url(re.compile(r"bucket=31-60"))
    rows = page.locator("table.data tbody tr")
    assert rows.count() > 1
    shot(page, "03-invoices")
    number = rows.first.locator("td").nth(1).inner_text()

    # One click refers it and opens its case.
    rows.first.get_by_role("button", name=re.compile("^Refer invoice")).click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    case_url = page.url
    assert number in page.content()
    assert "Referred to the program" in page.content()
    shot(page, "04-case-as-creditor")

    page.get_by_role("link", name="Insights").click()
    page.locator("#aging-chart").wait_for()
    wait_until(page, "!!(window.Chart && Object.keys(Chart.instances).length == 2)")
    shot(page, "05-insights")
    page.get_by_role("link", name="Rules").click()
    page.get_by_text(re.compile(r"invoices would be referred")).wait_for()
    shot(page, "06-rules")
    page.get_by_role("link", name="Settings").click()
    shot(page, "07-settings")
    page.get_by_role("link", name="Connections").click()
    shot(page, "08-connections")
    page.get_by_role("button", name="Sign out").click()

    # The representative: the queue, the case, a call logged.
    sign_in(page, live, live.rep)
    page.wait_for_url(re.compile(r"/queue$"))
    shot(page, "09-work-queue")
    page.locator("ol.queue h2 a").first.click()
    page.wait_for_url(re.compile(re.escape(case_url) + r"\?creditor=\d+$"))
    page.get_by_label("Left a voicemail").check()
    page.get_by_label("What was said").fill("Left a message with the accounts team")
    page.get_by_role("button", name="Log call").click()
    page.wait_for_url(case_url)
    timeline = page.locator("ol.timeline")
    timeline.get_by_text("Call logged: voicemail").wait_for()
    assert "Left a message with the accounts team" in timeline.inner_text()
    shot(page, "10-case-after-call")


def test_keyboard_reaches_sign_in_and_every_field_has_a_label(page, live) -> None:
    page.goto(f"{live.url}/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll(
                'input:not([type=hidden]), select, textarea')]
            .filter(el => !el.labels || el.labels.length === 0)
            .map(el => el.name)"""
    )
    assert unlabelled == []
    page.get_by_label("E-mail").focus()
    page.keyboard.type(live.admin)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/dashboard$"))
