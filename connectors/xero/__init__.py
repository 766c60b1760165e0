"""The Xero connector: Accounting API 2.0 through xero-python.

`XeroConnector` (connector.py) is the public face; `oauth` connects an organisation,
`errors` holds the error family and `backoff`.
"""

from connectors.xero.connector import XeroConnector

__all__ = ["XeroConnector"]
