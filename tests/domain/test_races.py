"""Two workers at once: one case per debtor, one use per OAuth state."""

from __future__ import annotations

import threading
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from app import cases, tokens
from app.models import CaseInvoice, Creditor, Debtor, Invoice, ReferralCase
from tests.domain import factories


def _together(work: Callable[[str], object]) -> dict[str, object]:
    """Run `work("A")` and `work("B")` in two threads released at the same moment."""
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def run(name: str) -> None:
        barrier.wait()
        try:
            results[name] = work(name)
        except Exception as exc:  # the test inspects what each worker saw
            results[name] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_sweeps_referring_one_debtor_make_one_case(
    factory: sessionmaker[Session], session: Session
) -> None:
    creditor = factories.creditor(session)
    debtor = factories.debtor(session, factories.connection(session, creditor))
    first = factories.invoice(session, debtor)
    second = factories.invoice(session, debtor)
    session.commit()
    ids = {"A": first.id, "B": second.id}

    def sweep(name: str) -> int:
        with factory() as own:
            c = own.get(Creditor, creditor.id)
            d = own.get(Debtor, debtor.id)
            i = own.get(Invoice, ids[name])
            assert c is not None and d is not None and i is not None
            case = cases.refer(own, c, d, [i], f"system:sweep-{name}", "in window")
            own.commit()
            return case.id

    results = _together(sweep)

    assert results["A"] == results["B"], results
    open_cases = session.scalars(sa.select(ReferralCase)).all()
    assert len(open_cases) == 1
    lines = session.scalars(sa.select(CaseInvoice.invoice_id)).all()
    assert sorted(lines) == sorted(ids.values())


def test_a_callback_delivered_twice_at_once_is_accepted_once(
    factory: sessionmaker[Session], session: Session
) -> None:
    """C03: the same callback 250 ms apart (here: at the same moment)."""
    state = tokens.issue_state(
        session, ledger="quickbooks", creditor_id=None, user_id=None
    )
    session.commit()

    def callback(name: str) -> str:
        with factory() as own:
            tokens.consume_state(own, state, "quickbooks")
            own.commit()
            return "exchanged"

    results = _together(callback)

    outcomes = sorted(
        "exchanged" if r == "exchanged" else type(r).__name__ for r in results.values()
    )
    assert outcomes == ["OAuthStateError", "exchanged"], results
