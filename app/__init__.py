"""CARE's domain. Modules here never import Flask or a ledger SDK; the web layer is
`app.web`."""
