"""Ledger connectors: a ledger-neutral contract and one package per ledger."""
