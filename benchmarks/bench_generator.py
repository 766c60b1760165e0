"""How fast the sandbox company generator writes books.

    .venv/bin/python benchmarks/bench_generator.py [--invoices 100000] [--repeat 3]

Prints, per ledger, the best of `--repeat` runs: wall seconds, CPU seconds (which a
busy machine disturbs less) and invoices per wall second, with the record counts of
the books it made.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from connectors.records import Ledger
from connectors.sandbox.generator import generate

TODAY = date(2025, 5, 1)


def bench(ledger: Ledger, invoices: int, repeat: int, seed: int) -> None:
    """Time `repeat` generations and print the best."""
    best = cpu = float("inf")
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        books = generate(seed=seed, invoices=invoices, today=TODAY, ledger=ledger)
        best = min(best, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - cpu_started)
    print(
        f"{ledger.value:<10} invoices={invoices:<7} seconds={best:6.2f} "
        f"cpu={cpu:6.2f} invoices/s={invoices / best:9,.0f}  "
        f"customers={len(books.customers)} payments={len(books.payments)} "
        f"credits={len(books.credits)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for ledger in Ledger:
        bench(ledger, args.invoices, args.repeat, args.seed)


if __name__ == "__main__":
    main()
