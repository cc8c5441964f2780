"""Provider decline codes in plain words a customer can act on.

Fraud-related codes (lost, stolen, pickup) read as a generic decline on purpose.
"""

from __future__ import annotations

_MESSAGES = {
    "insufficient_funds": "The card has insufficient funds.",
    "expired_card": "The card has expired.",
    "incorrect_cvc": "The card's security code is incorrect.",
    "incorrect_number": "The card number is incorrect.",
    "processing_error": "The card could not be processed; try again in a few minutes.",
    "authentication_required": "Your bank asks you to confirm this payment (3-D Secure).",
    "payment_intent_authentication_failure": "The 3-D Secure check was not completed.",
    "card_velocity_exceeded": "The card has reached its spending limit.",
    "canceled": "The payment was canceled before it completed.",
}
GENERIC = "The card was declined. Use another card or contact your bank."


def decline_message(code: str | None) -> str:
    return _MESSAGES.get(code or "", GENERIC)
