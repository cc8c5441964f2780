"""GraphQL enums, mirrored from the model enums so the two cannot drift apart."""

import strawberry

from models import enums

PlanTier = strawberry.enum(enums.PlanTier, name="PlanTier")
BillingInterval = strawberry.enum(enums.BillingInterval, name="BillingInterval")
SubscriptionStatus = strawberry.enum(enums.SubscriptionStatus, name="SubscriptionStatus")
CardFunding = strawberry.enum(enums.CardFunding, name="CardFunding")
InvoiceStatus = strawberry.enum(enums.InvoiceStatus, name="InvoiceStatus")
PaymentStatus = strawberry.enum(enums.PaymentStatus, name="PaymentStatus")
Role = strawberry.enum(enums.ApiKeyRole, name="Role")


#: EXPIRED is read from the expiry date; DELETED shows only on past payments' cards.
PaymentMethodStatus = strawberry.enum(enums.PaymentMethodStatus, name="PaymentMethodStatus")
