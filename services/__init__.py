"""Billing rules. No GraphQL here: callers get domain objects or a `BillingError`."""
