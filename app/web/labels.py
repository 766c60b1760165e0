"""Words people read for the codes the domain stores."""

from __future__ import annotations

REASONS = {
    "in_window": "In the referral window",
    "not_due": "Not due yet",
    "too_early": "Not late enough yet",
    "past_window": "Past the referral window: third-party placement",
    "paid": "Paid",
    "voided": "Voided",
    "deleted": "Deleted in the ledger",
    "disputed": "Disputed",
    "below_minimum": "Below the minimum amount",
    "excluded_customer": "Customer excluded by the rules",
    "excluded_tag": "Customer tag excluded by the rules",
    "excluded_currency": "Currency excluded by the rules",
    "credit_covers_balance": "Unapplied credit covers the balance",
    "promised": "Debtor promised to pay",
    "on_plan": "On a payment plan",
    "implausible_due_date": "Implausible due date: check it in the ledger",
}

DECISIONS = {
    "refer": "Refer",
    "wait": "Wait",
    "escalate": "Escalate",
    "skip": "Skip",
}

CASE_STATES = {
    "proposed": "Awaiting approval",
    "active": "Active",
    "promised": "Promised",
    "on_plan": "On a plan",
    "disputed": "Disputed",
    "resolved_paid": "Paid",
    "escalated": "Escalated",
    "withdrawn": "Withdrawn",
    "written_off": "Written off",
}

CALL_OUTCOMES = {
    "reached": "Reached the debtor",
    "voicemail": "Left a voicemail",
    "promise": "Promise to pay",
    "dispute": "Debtor disputes",
    "wrong_number": "Wrong number",
}

CHANNELS = {"letter": "Letter", "email": "E-mail", "sms": "SMS", "call": "Call"}


def reason(code: str | None) -> str:
    return REASONS.get(code or "", "Not evaluated yet")


def state(code: str) -> str:
    return CASE_STATES.get(code, code.replace("_", " ").capitalize())
