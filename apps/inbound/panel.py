"""What the "Email delivery test" panel shows: shared by the template tag (sprint page, portal) and the views."""

from .findings import delivery_finding
from .forms import DeliveryTestRequestForm


def panel_context(sprint, test, return_to="sprint", form=None) -> dict:
    return {
        "sprint": sprint, "test": test, "return_to": return_to,
        "finding": delivery_finding(test) if test is not None and test.arrived else None,
        "form": form or DeliveryTestRequestForm(initial={"return_to": return_to}),
    }
