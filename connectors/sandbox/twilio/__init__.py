"""A local stand-in for Twilio's Messages API and its webhooks, for tests and demos."""
