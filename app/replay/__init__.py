"""`care replay`: a support case reproduced from ledger payloads through the real path.

`scenario` reads and validates a scenario file, `run` drives the demo's stack (one
sandbox ledger, the web app's OAuth, RQ workers, the database) through it, and `cli`
is the click command.
"""
