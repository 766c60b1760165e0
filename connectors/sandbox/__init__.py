"""Local stand-ins of QuickBooks Online and Xero that speak the real wire formats."""
