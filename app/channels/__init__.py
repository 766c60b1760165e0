"""Outreach channels: letters (PDF), email (SMTP) and SMS (Twilio).

Plain inputs in, results out: no Flask, no ORM. The outreach jobs load their rows,
build these inputs and record what the channels return.
"""
