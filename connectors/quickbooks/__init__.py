"""QuickBooks Online v3 through python-quickbooks and intuit-oauth.

`QuickBooksConnector` (connector.py) is what jobs call; `oauth` builds the connect
flow; `errors` names what a caller does after each failure.
"""
