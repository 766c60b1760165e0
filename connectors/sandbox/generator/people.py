"""Customers: names, contacts, e-mails, phones and addresses, per country."""

# TODO: a customer bills in one currency, as QuickBooks requires; a Xero contact may
# hold invoices in several, so Xero books never show that mix and per-contact
# currency totals are untested against generated data.

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from connectors.records import Address
from connectors.sandbox.generator.catalog import (
    CONTACT_NAMES,
    COUNTRIES,
    HARD_CUSTOMERS,
    SUFFIXES,
    TAGS,
    TRADES,
)


@dataclass
class CustomerDraft:
    """A customer before its balance is known."""

    ledger_id: str
    name: str
    country: str
    currency: str
    timezone: str
    contact_name: str | None
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    address: Address
    tags: tuple[str, ...]
    solo: bool = False  # only planned invoices, none drawn at random


def hard_drafts(
    rng: random.Random, ids: list[str], home_currency: str
) -> list[CustomerDraft]:
    """The customers every book of ~50 invoices or more holds (see HARD_CUSTOMERS)."""
    drafts = []
    for ledger_id, hard in zip(ids, HARD_CUSTOMERS, strict=False):
        country = COUNTRIES[hard.country]
        currency = country.currency if hard.foreign else home_currency
        drafts.append(
            CustomerDraft(
                ledger_id=ledger_id,
                name=hard.name,
                country=hard.country,
                currency=currency,
                timezone=country.timezones[0],
                contact_name=rng.choice(CONTACT_NAMES),
                emails=hard.emails,
                phones=(phone(rng, hard.country),),
                address=address(rng, hard.country),
                tags=("hard-case",),
                solo=hard.solo,
            )
        )
    return drafts


def random_draft(
    rng: random.Random,
    ledger_id: str,
    home_currency: str,
    home_country: str,
    taken: set[str],
) -> CustomerDraft:
    """An ordinary customer: mostly at home, some abroad, some invoiced abroad."""
    code = home_country if rng.random() < 0.6 else rng.choice(tuple(COUNTRIES))
    country = COUNTRIES[code]
    name = _unique(_business_name(rng, code), taken)
    # A customer abroad is invoiced in its own currency a third of the time, as
    # multi-currency books do; the rest are billed in the home currency.
    currency = home_currency
    if country.currency != home_currency and rng.random() < 0.35:
        currency = country.currency
    return CustomerDraft(
        ledger_id=ledger_id,
        name=name,
        country=code,
        currency=currency,
        timezone=rng.choice(country.timezones),
        contact_name=rng.choice(CONTACT_NAMES) if rng.random() < 0.7 else None,
        emails=_emails(rng, name, ledger_id),
        phones=_phones(rng, code),
        address=address(rng, code),
        tags=tuple(sorted(set(rng.sample(TAGS, rng.randint(0, 2))))),
    )


def reserve_hard_names(taken: set[str]) -> None:
    """Keep random names from colliding with the hard customers' names."""
    taken.update(h.name for h in HARD_CUSTOMERS)


def _business_name(rng: random.Random, code: str) -> str:
    person = rng.choice(COUNTRIES[code].people)
    suffix = rng.choice(SUFFIXES[code])
    if code == "JP":
        return f"{suffix}{person}{rng.choice(('商事', '工業', '食品', '運輸'))}"
    if code == "VN":
        return f"{suffix} {person} {rng.choice(('Thương mại', 'Xây dựng', 'Dịch vụ'))}"
    return f"{person} {rng.choice(TRADES)} {suffix}"


def _unique(name: str, taken: set[str]) -> str:
    # QuickBooks refuses a second customer with the same DisplayName.
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} ({n})", n + 1
    taken.add(candidate)
    return candidate


def _emails(rng: random.Random, name: str, ledger_id: str) -> tuple[str, ...]:
    domain = f"{slug(name) or 'customer'}-{ledger_id[:8]}.example"
    roll = rng.random()
    if roll < 0.06:
        return ()
    if roll < 0.14:
        return (f"accounts@{domain}", f"owner@{domain}")
    return (f"{rng.choice(('accounts', 'ap', 'billing', 'office'))}@{domain}",)


def _phones(rng: random.Random, code: str) -> tuple[str, ...]:
    if rng.random() < 0.08:
        return ()
    if rng.random() < 0.15:
        return (phone(rng, code), phone(rng, code, mobile=False))
    return (phone(rng, code),)


def slug(name: str) -> str:
    """An ASCII slug of `name`, empty when it holds no Latin letters."""
    folded = (
        name.replace("Ł", "L").replace("ł", "l").replace("Đ", "D").replace("đ", "d")
    )
    folded = folded.replace("Ø", "O").replace("ø", "o")
    ascii_only = (
        unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    )
    return re.sub(r"[^a-z0-9]+", "-", ascii_only.lower()).strip("-")[:30].strip("-")


def phone(rng: random.Random, code: str, *, mobile: bool = True) -> str:
    """A number valid for `code`'s numbering plan, in E.164."""
    kind = (
        phonenumbers.PhoneNumberType.MOBILE
        if mobile
        else phonenumbers.PhoneNumberType.FIXED_LINE
    )
    country_code, national, width = _template(code, kind)
    # Vary the last four digits and keep the first variant the plan accepts;
    # the documented example number itself is the fallback.
    for _ in range(8):
        tail = rng.randrange(10_000)
        candidate = national - national % 10_000 + tail
        if _valid(country_code, candidate, width):
            return f"+{country_code}{candidate:0{width}d}"
    return f"+{country_code}{national:0{width}d}"


@lru_cache(maxsize=64)
def _template(code: str, kind: int) -> tuple[int, int, int]:
    example = phonenumbers.example_number_for_type(code, kind)
    if example is None:
        example = phonenumbers.example_number(code)
    if example is None or example.country_code is None:
        raise ValueError(f"phonenumbers has no example number for {code!r}")
    width = len(phonenumbers.national_significant_number(example))
    return example.country_code, int(example.national_number or 0), width


@lru_cache(maxsize=4096)
def _valid(country_code: int, national: int, width: int) -> bool:
    number = phonenumbers.PhoneNumber(
        country_code=country_code, national_number=national
    )
    if width > len(str(national)):
        # Italian-style leading zeros do not occur in the countries we generate.
        return False
    return phonenumbers.is_valid_number(number)


def address(rng: random.Random, code: str) -> Address:
    """A street address in `code`'s style."""
    country = COUNTRIES[code]
    city, region, postal = rng.choice(country.cities)
    street = rng.choice(country.streets)
    number = rng.randint(1, 240)
    line = f"{street} {number}" if code in ("DE", "PL", "JP") else f"{number} {street}"
    if code == "VN":
        line = f"Số {number} {street}"
    lines: tuple[str, ...] = (line,)
    if rng.random() < 0.2:
        lines = (*lines, f"Unit {rng.randint(1, 30)}")
    return Address(
        lines=lines, city=city, region=region, postal_code=postal, country=code
    )
