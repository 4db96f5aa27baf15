"""The buyer's email: the link to their score page (SITE_URL, never the request's Host)."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from .models import ScoreOrder


def score_url(order) -> str:
    return settings.SITE_URL + reverse("billing:score", kwargs={"token": order.access_token})


def send_score_link(order_id) -> None:
    order = ScoreOrder.objects.select_related("workspace").filter(pk=order_id).first()
    if order is None:
        return
    context = {"order": order, "link": score_url(order)}
    subject = "".join(render_to_string("billing/emails/score_link_subject.txt", context).splitlines())
    send_mail(subject, render_to_string("billing/emails/score_link.txt", context), None, [order.email])
