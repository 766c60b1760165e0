from __future__ import annotations

import pytest

from app.channels import unsubscribe

SECRET = "TESTONLY-unsubscribe-secret"


def test_token_round_trips_its_subject() -> None:
    token = unsubscribe.make_token(SECRET, "debtor:42")

    assert unsubscribe.read_token(SECRET, token) == "debtor:42"
    assert token.startswith("ZGVidG9yOjQy.")  # base64url of "debtor:42", no padding
    assert "=" not in token and "/" not in token and "+" not in token


def test_tampered_or_foreign_tokens_are_refused() -> None:
    token = unsubscribe.make_token(SECRET, "debtor:42")
    forged = unsubscribe.make_token("another-secret", "debtor:43")
    swapped = (
        unsubscribe.make_token(SECRET, "debtor:43").split(".")[0]
        + "."
        + token.split(".")[1]
    )

    for bad in (forged, swapped, token[:-2] + "AA", "not-a-token", "", "."):
        with pytest.raises(unsubscribe.BadUnsubscribeTokenError):
            unsubscribe.read_token(SECRET, bad)


def test_links_carry_the_token_in_both_forms() -> None:
    https, mailto = unsubscribe.links(
        SECRET, "case:17", "https://care.example/", "unsubscribe@care.example"
    )
    token = unsubscribe.make_token(SECRET, "case:17")

    assert https == f"https://care.example/unsubscribe/{token}"
    assert mailto == f"mailto:unsubscribe@care.example?subject=unsubscribe%20{token}"


def test_a_token_needs_a_secret_and_a_subject() -> None:
    with pytest.raises(ValueError, match="secret"):
        unsubscribe.make_token("", "debtor:42")
    with pytest.raises(ValueError, match="subject"):
        unsubscribe.make_token(SECRET, "")
