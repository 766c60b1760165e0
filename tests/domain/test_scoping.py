"""Tenant scoping: creditor A can never load creditor B's rows through scoped()."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.db import scoped
from app.models import Creditor, Debtor, Invoice, WebhookDelivery
from tests.domain import factories


def _two_tenants(session: Session) -> tuple[Creditor, Creditor, Invoice, Invoice]:
    a, b = factories.creditor(session), factories.creditor(session)
    a_invoice = factories.invoice(
        session, factories.debtor(session, factories.connection(session, a))
    )
    b_invoice = factories.invoice(
        session, factories.debtor(session, factories.connection(session, b))
    )
    return a, b, a_invoice, b_invoice


def test_scoped_lists_only_the_creditors_rows(session: Session) -> None:
    a, b, a_invoice, b_invoice = _two_tenants(session)
    assert [i.id for i in scoped(session, Invoice, a.id).all()] == [a_invoice.id]
    assert [i.id for i in scoped(session, Invoice, b.id).all()] == [b_invoice.id]


def test_scoped_get_of_another_creditors_id_finds_nothing(session: Session) -> None:
    a, _, a_invoice, b_invoice = _two_tenants(session)
    assert scoped(session, Invoice, a.id).get(a_invoice.id) is a_invoice
    assert scoped(session, Invoice, a.id).get(b_invoice.id) is None


def test_further_filters_keep_the_tenant_filter(session: Session) -> None:
    a, _, _, b_invoice = _two_tenants(session)
    # Even a filter naming B's row exactly returns nothing for A.
    query = scoped(session, Invoice, a.id).where(Invoice.id == b_invoice.id)
    assert query.all() == []
    assert query.count() == 0
    assert scoped(session, Debtor, a.id).count() == 1


def test_scoped_refuses_models_without_a_creditor(session: Session) -> None:
    with pytest.raises(TypeError, match="no creditor_id"):
        scoped(session, WebhookDelivery, 1)


@pytest.mark.parametrize("bad", [None, "1", True])
def test_scoped_refuses_a_creditor_id_that_is_not_an_int(session: Session, bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match="must be an int"):
        scoped(session, Invoice, bad)
