"""Billing events: one append-only log (log.py) read by three readers.

`Account.events` pages it, the `billingEvents` subscription tails it live (fanout.py:
PostgreSQL LISTEN/NOTIFY across processes, in process on SQLite) and the worker turns
it into signed webhook deliveries (webhooks.py).
"""
