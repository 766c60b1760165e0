"""QuickBooks Online Accounting v3 through python-quickbooks and intuit-oauth.

What jobs and the web layer call::

    from connectors.quickbooks.connector import QuickBooksConnector
    from connectors.quickbooks import oauth

    # Connect (the web layer keeps `state` in the session and checks it):
    state = oauth.new_state()
    url = oauth.authorization_url(settings.quickbooks, state)
    tokens = oauth.exchange_code(settings.quickbooks, code, realm_id)  # TokenSet
    oauth.revoke(settings.quickbooks, tokens.refresh_token)

    # Use (store: the connection's TokenStore; redis: for the shared budgets):
    qbo = QuickBooksConnector(settings.quickbooks, realm_id, store, redis)
    qbo.company()                                   # Company (2 calls, once)
    for page in qbo.sync(cursor, known=held_ids):   # SyncPage; save page.cursor
        ...
    qbo.fresh_read(invoice_id)                      # FreshRead
    qbo.find_invoices(number); qbo.find_customers(name, prefix=False)
    qbo.write_note(invoice_id, key, text)           # WriteResult
    qbo.write_fee_bill(fee_bill)                    # WriteResult
    qbo.write_payment(invoice_id, key, amount, paid_on)
    qbo.revoke(); qbo.calls

Errors are the neutral family (`connectors.base`) through `errors`: ReconnectError,
WaitError (retry_after, scope), RetryError (back off with `errors.backoff(attempt)`),
StaleError, FixError. `client.quote` escapes every query literal.
"""
