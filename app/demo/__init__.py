"""`care demo`: the whole path on local sandbox ledgers."""
