"""The enums of plan changes and cancellation, described for GraphiQL."""

from models import enums as model_enums
from schema.types.enums import described

PlanChangeTiming = described(
    model_enums.PlanChangeTiming,
    name="PlanChangeTiming",
    description="When a plan change takes effect.",
    values={
        "IMMEDIATE": (
            "Now, as an upgrade: the preview's invoice is charged at once and the plan "
            "switches when it is paid."
        ),
        "PERIOD_END": (
            "At the end of the current period, as a downgrade: nothing is charged now; the "
            "subscription shows it as `pendingChange` until then."
        ),
    },
)

CancellationReason = described(
    model_enums.CancellationReason,
    name="CancellationReason",
    description="Why the customer canceled, as they chose it in the portal.",
    values={
        "TOO_EXPENSIVE": "The price is too high.",
        "MISSING_FEATURES": "A feature they need is missing.",
        "SWITCHED_SERVICE": "They moved to another service.",
        "UNUSED": "They do not use it enough.",
        "CUSTOMER_SERVICE": "They were unhappy with customer service.",
        "TOO_COMPLEX": "It is too hard to use.",
        "LOW_QUALITY": "The quality was not good enough.",
        "OTHER": "Another reason (see the comment, if any).",
    },
)
