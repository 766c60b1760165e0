"""The data model, one module per concern; import models from here."""

from app.models.audit import AuditEntry
from app.models.base import Base, Exact, UtcDateTime
from app.models.cases import (
    CaseInvoice,
    Instalment,
    OutreachStep,
    PaymentPlan,
    Promise,
    ReferralCase,
)
from app.models.connections import LedgerConnection, OAuthState, WebhookDelivery
from app.models.fees import FeeAccrual, FeeBill
from app.models.ledger import (
    Credit,
    CreditApplication,
    Debtor,
    Invoice,
    Payment,
    PaymentApplication,
)
from app.models.outbox import Effect, LedgerWrite
from app.models.tenants import Creditor, User

__all__ = [
    "AuditEntry",
    "Base",
    "CaseInvoice",
    "Credit",
    "CreditApplication",
    "Creditor",
    "Debtor",
    "Effect",
    "Exact",
    "FeeAccrual",
    "FeeBill",
    "Instalment",
    "Invoice",
    "LedgerConnection",
    "LedgerWrite",
    "OAuthState",
    "OutreachStep",
    "Payment",
    "PaymentApplication",
    "PaymentPlan",
    "Promise",
    "ReferralCase",
    "User",
    "UtcDateTime",
    "WebhookDelivery",
]
