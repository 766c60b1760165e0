"""Invoice amounts, part-payments and exchange rates, all Decimal, never float."""

from __future__ import annotations

import random
from decimal import Decimal

from app.money import minor_unit, quantize
from connectors.sandbox.generator.catalog import USD_PER_UNIT

# US-dollar sizes of a small business's invoices; a jitter of 50-150% is applied.
_SIZES = tuple(
    Decimal(n) for n in (60, 120, 250, 400, 650, 900, 1500, 2400, 4800, 12000)
)


def invoice_total(rng: random.Random, currency: str) -> Decimal:
    """A realistic total in `currency`: often round, rounded to its minor unit."""
    usd = rng.choice(_SIZES) * Decimal(rng.randint(5_000, 15_000)) / 10_000
    local = usd / USD_PER_UNIT[currency]
    if currency == "VND":
        # Vietnamese invoices are priced in thousands of dong.
        return quantize((local / 1000).to_integral_value() * 1000, currency)
    if rng.random() < 0.55:
        return quantize(local.to_integral_value(), currency)
    return quantize(local, currency)


def part_of(rng: random.Random, total: Decimal, currency: str) -> Decimal:
    """Between 15% and 85% of `total`, at least one minor unit and short of it."""
    unit = minor_unit(currency)
    share = quantize(total * Decimal(rng.randint(15, 85)) / 100, currency)
    return min(max(share, unit), total - unit)


def exchange_rate(rng: random.Random, currency: str, home: str) -> Decimal:
    """Home units per one `currency` unit, within 3% of a rough mid-2025 rate."""
    base = USD_PER_UNIT[currency] / USD_PER_UNIT[home]
    jitter = 1 + Decimal(rng.randint(-300, 300)) / 10_000
    rate = base * jitter
    # Six significant figures, as both ledgers show rates; VND needs them all.
    return rate.quantize(Decimal(1).scaleb(rate.adjusted() - 5))
