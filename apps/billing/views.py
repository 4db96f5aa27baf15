import logging

import stripe
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.checks import pipeline
from apps.checks.engine import scoring
from apps.checks.models import ScanRun
from apps.core import ratelimit
from apps.core.client_ip import client_ip
from apps.tenants.access import get_score_by_token, get_scoreorder_for, get_storefront, get_workspace_for

from . import fulfilment, leads, stripe_api
from .forms import ScoreOrderForm
from .models import ScoreOrder, StripeEvent
from .tasks import process_stripe_event

log = logging.getLogger(__name__)


def storefront(request, workspace_slug):
    """The workspace's public self-serve page: domain + email → Stripe Checkout."""
    workspace = get_storefront(workspace_slug)
    context = {"workspace": workspace, "configured": stripe_api.configured(), "test_mode": stripe_api.test_mode(),
               "price": ScoreOrder(amount=settings.SELF_SERVE_PRICE, currency=settings.SELF_SERVE_CURRENCY.lower()),
               "cancelled": request.GET.get("cancelled") == "1"}
    form = ScoreOrderForm(request.POST or None)
    status = 200
    if request.method == "POST" and context["configured"] and form.is_valid():
        ip = client_ip(request)
        if not (ratelimit.allow("order-email", form.cleaned_data["email"], limit=settings.SELF_SERVE_LIMIT_PER_EMAIL)
                and ratelimit.allow("order-ip", ip, limit=settings.SELF_SERVE_LIMIT_PER_IP)):
            form.add_error(None, "Too many orders in a short time. Please try again in an hour.")
            status = 429
        else:
            order = ScoreOrder.objects.create(
                workspace=workspace, domain=form.cleaned_data["domain"], email=form.cleaned_data["email"],
                amount=settings.SELF_SERVE_PRICE, currency=settings.SELF_SERVE_CURRENCY.lower(), client_ip=ip or None)
            base = settings.SITE_URL
            try:
                session = stripe_api.create_checkout_session(
                    order,
                    success_url=base + reverse("billing:success") + "?session_id={CHECKOUT_SESSION_ID}",
                    cancel_url=base + reverse("billing:storefront", kwargs={"workspace_slug": workspace.slug})
                    + "?cancelled=1")
            except stripe.StripeError as exc:
                log.warning("checkout session for order %s failed: %s", order.pk, exc)
                form.add_error(None, "The payment provider is not answering right now. Please try again shortly.")
                status = 502
            else:
                ScoreOrder.objects.filter(pk=order.pk).update(checkout_session_id=session.id)
                return redirect(session.url, permanent=False)
    elif request.method == "POST" and not context["configured"]:
        status = 503
    context["form"] = form
    return render(request, "billing/storefront.html", context, status=status)


def checkout_success(request):
    """Stripe's success redirect: fulfil right away (the webhook may come later), then show the score page."""
    session_id = request.GET.get("session_id", "")
    if not session_id.startswith("cs_") or len(session_id) > 255 or not stripe_api.configured():
        raise Http404
    try:
        order = fulfilment.fulfill(session_id)
    except stripe.InvalidRequestError:
        raise Http404 from None
    except stripe.StripeError as exc:
        # The webhook will fulfil; the buyer still gets their page, which says payment is being confirmed.
        log.warning("fulfilment from the success page failed: %s", exc)
        order = ScoreOrder.objects.filter(checkout_session_id=session_id).first()
    if order is None:
        raise Http404
    return redirect("billing:score", token=order.access_token)


def score(request, token):
    order = get_score_by_token(token)
    order.sync_with_scan()
    scan = order.scan
    findings = list(scan.findings.all()) if scan else []
    response = render(request, "billing/score.html", {
        "order": order, "scan": scan, "workspace": order.workspace,
        "running": bool(scan and scan.state in (ScanRun.QUEUED, ScanRun.RUNNING)),
        "risks": scoring.risks(pipeline.engine_findings_from(findings)),
        "findings": sorted(findings, key=lambda f: (scoring.STATUS_RANK[f.status], f.check_id, f.target)),
        "report_url": _report_url(order),
    })
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _report_url(order):
    """The readiness-report PDF, when apps.reports offers one for a self-serve order (built separately)."""
    try:
        return reverse("reports:score_pdf", kwargs={"token": order.access_token})
    except NoReverseMatch:  # apps.reports does not offer it (yet): no link rather than a broken one
        return ""


@csrf_exempt
@require_POST
def webhook(request):
    """Stripe's events: verified with the SDK, recorded once (unique event id) in the same transaction that
    enqueues their processing; a replay answers 200 and does nothing."""
    try:
        event = stripe_api.verified_event(request.body, request.headers.get("Stripe-Signature"))
    except (stripe.SignatureVerificationError, ValueError):
        return HttpResponseBadRequest("invalid signature or payload")
    StripeEvent.record(event, lambda row: process_stripe_event.delay_on_commit(row.pk))
    return HttpResponse("ok")


@login_required
def lead_list(request, workspace_id):
    workspace, role = get_workspace_for(request, workspace_id)
    orders = list(workspace.score_orders.select_related("scan", "converted_client")[:200])
    for order in orders:
        order.sync_with_scan()
    return render(request, "billing/leads.html", {"workspace": workspace, "orders": orders, "role": role})


@login_required
@require_POST
def convert_lead(request, scoreorder_id):
    order, _ = get_scoreorder_for(request, scoreorder_id)
    client, sprint, created = leads.convert(order, by=request.user)
    if created:
        messages.success(request, f"{client.name} is now a client with a sprint on {client.domain}.")
        return redirect("sprints:detail", sprint_id=sprint.pk)
    messages.info(request, "This lead was already converted.")
    return redirect("clients:detail", client_id=client.pk)
