"""`care web` is wired into the CLI; the vendored assets and font are served."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from app.cli import main

STATIC = Path(__file__).resolve().parents[2] / "app" / "web" / "static" / "vendor"


def test_care_web_command_takes_a_port() -> None:
    result = CliRunner().invoke(main, ["web", "--help"])
    assert result.exit_code == 0, result.output
    assert "--port" in result.output and "--migrate / --no-migrate" in result.output


def test_vendored_libraries_ship_with_their_licences() -> None:
    names = {p.name for p in STATIC.iterdir()}
    assert {"htmx-2.0.11.min.js", "htmx-LICENSE.txt"} <= names
    assert {"chart-4.6.1.umd.min.js", "chartjs-LICENSE.txt"} <= names
    assert "MIT" in (STATIC / "chartjs-LICENSE.txt").read_text()


def test_cjk_font_is_served_and_nothing_else_is(app) -> None:
    client = app.test_client()
    font = client.get("/fonts/NotoSansCJKjp-Regular-JIS.ttf")
    assert font.status_code == 200 and font.mimetype == "font/ttf"
    assert font.data[:4] == b"\x00\x01\x00\x00"  # a TrueType outline font
    assert client.get("/fonts/OFL.txt").status_code == 404
    assert client.get("/fonts/..%2F..%2Fconfig.py").status_code == 404


def test_pages_carry_security_headers(app) -> None:
    response = app.test_client().get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_demo_clock_in_redis_is_installed_by_the_app(
    settings, sessions, jobs, redis_url, redis
) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from app import clock as clock_mod
    from app.web import create_app

    previous = clock_mod.get_clock()
    try:
        create_app(
            replace(settings, clock="redis", redis_url=redis_url),
            sessions=sessions,
            enqueue=jobs,
            testing=True,
        )
        installed = clock_mod.get_clock()
        assert isinstance(installed, clock_mod.RedisClock)
        installed.set(datetime(2025, 5, 1, 12, 0, tzinfo=UTC))
        assert clock_mod.now().date().isoformat() == "2025-05-01"
    finally:
        clock_mod.set_clock(previous)
