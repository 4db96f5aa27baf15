"""The emails this app sends, through Django's email API (locmem in tests, SMTP or console otherwise)."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse


def absolute_url(path: str) -> str:
    # SITE_URL, not the request's Host header: links in emails must not be steerable by a forged Host.
    return settings.SITE_URL + path


def _send(template: str, to: str, context: dict):
    subject = "".join(render_to_string(f"tenants/emails/{template}_subject.txt", context).splitlines())
    body = render_to_string(f"tenants/emails/{template}.txt", context)
    send_mail(subject, body, None, [to])


def send_invitation(invitation, token: str):
    _send("invitation", invitation.email, {
        "invitation": invitation,
        "link": absolute_url(reverse("tenants:invitation_accept", args=[token])),
        "inviter": invitation.invited_by.display_name if invitation.invited_by else invitation.workspace.name,
        "days": settings.INVITATION_MAX_AGE_DAYS,
    })


def send_email_change_confirmation(user, new_email: str, token: str):
    _send("email_change", new_email, {
        "user": user,
        "new_email": new_email,
        "link": absolute_url(reverse("tenants:email_confirm", args=[token])),
        "hours": int(user.EMAIL_CHANGE_MAX_AGE.total_seconds() // 3600),
    })


def send_email_changed_notice(user, old_email: str):
    """Tell the previous address, so a hijacked account does not change hands silently."""
    _send("email_changed", old_email, {"user": user, "old_email": old_email,
                                       "reset_link": absolute_url(reverse("tenants:password_reset"))})
