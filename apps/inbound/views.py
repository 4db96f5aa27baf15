from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.tenants.access import get_sprint_child_for, get_sprint_for

from .forms import RETURN_TO, DeliveryTestRequestForm
from .models import DeliveryTest
from .panel import panel_context


def _return_to(value):
    return value if value in dict(RETURN_TO) else "sprint"


@login_required
@require_POST
def request_test(request, sprint_id):
    """Consultants and the client's founder create the sprint's test address (or get the open one back)."""
    sprint, _ = get_sprint_for(request, sprint_id)
    form = DeliveryTestRequestForm(request.POST)
    if not form.is_valid():
        context = panel_context(sprint, sprint.delivery_tests.first(), form=form)
        return render(request, "inbound/_panel.html" if request.htmx else "inbound/panel_page.html", context,
                      status=400)
    return_to = form.cleaned_data["return_to"] or "sprint"
    test, created = DeliveryTest.request_for(sprint)
    if created:
        sprint.log(request.user, f"created the email delivery test address {test.address}")
    if request.htmx:
        return render(request, "inbound/_panel.html", panel_context(sprint, test, return_to))
    messages.success(request, f"Send a welcome or password-reset email from your app to {test.address}.")
    if return_to == "portal":
        return redirect(reverse("sprints:portal") + f"#delivery-test-{sprint.pk}")
    return redirect(reverse("sprints:detail", kwargs={"sprint_id": sprint.pk}) + f"#delivery-test-{sprint.pk}")


@login_required
def test_panel(request, deliverytest_id):
    """One test's panel: the htmx poll target while waiting, and a page of its own without JavaScript."""
    test, _ = get_sprint_child_for(request, DeliveryTest, deliverytest_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    context = panel_context(test.sprint, test, _return_to(request.GET.get("return_to")))
    return render(request, "inbound/_panel.html" if request.htmx else "inbound/panel_page.html", context)
