"""C29: contact e-mail fields as the ledgers hold them, cleaned or refused."""

from __future__ import annotations

import pytest

from app.channels.addresses import NoEmailAddress, clean_recipients, normalise
from tests.channels.conftest import load_case


def test_c29_contacts_without_an_address_raise_no_email_address() -> None:
    case = load_case("C29")
    contacts = {c["n"]: c for c in case["input"]["contacts"]}
    xero_empty = [contacts[1]["EmailAddress"]] + [
        p.get("EmailAddress", "") for p in contacts[1]["ContactPersons"]
    ]
    qbo_missing = contacts[2].get("PrimaryEmailAddr", {}).get("Address")

    for raw in (xero_empty, qbo_missing):
        with pytest.raises(NoEmailAddress) as caught:
            clean_recipients(raw)
        assert caught.value.status == case["expected"]["1"]["status"]


def test_c29_comma_separated_and_padded_addresses_are_cleaned() -> None:
    case = load_case("C29")
    contacts = {c["n"]: c for c in case["input"]["contacts"]}

    assert (
        clean_recipients(contacts[3]["PrimaryEmailAddr"]["Address"])
        == case["expected"]["3"]["recipients"]
    )
    assert (
        clean_recipients(contacts[4]["EmailAddress"])
        == case["expected"]["4"]["recipients"]
    )


def test_semicolons_duplicates_and_junk_are_cleaned() -> None:
    raw = "ap@tuatara.example; AP@Tuatara.Example ,, not an address; Jo <jo@x.example>"

    assert clean_recipients(raw) == ["ap@tuatara.example", "jo@x.example"]


def test_only_junk_raises_no_email_address_naming_it() -> None:
    with pytest.raises(NoEmailAddress, match="not addresses: none@, n/a"):
        clean_recipients("none@; n/a")


def test_international_domains_become_punycode() -> None:
    assert normalise("ap@bücher.example") == "ap@xn--bcher-kva.example"


@pytest.mark.parametrize(
    "address",
    [
        "ap@tuatara",
        "a..b@x.example",
        "ap@-x.example",
        "a b@x.example",
        "@x.example",
        "x" * 65 + "@x.example",
        "zoë@x.example",
    ],
)
def test_addresses_we_will_not_risk_are_refused(address: str) -> None:
    assert normalise(address) is None
