"""Optional TOTP two-factor sign-in on django-otp: enrolment, recovery codes, and the pending second step.

A user with a confirmed TOTP device logs in in two steps: the password form puts a *pending* login in the session
(user id, backend, time, where to go next) and only the verify step calls django.contrib.auth.login. Users without
a device log in in one step as before.
"""

import base64
import time

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User

PENDING_SESSION_KEY = "two_factor_pending"
RECOVERY_CODE_COUNT = 10


def is_enabled(user) -> bool:
    return django_otp.user_has_device(user, confirmed=True)


# --- the pending second step ------------------------------------------------------------------------------------
def start_pending(request, user, next_url: str) -> None:
    request.session[PENDING_SESSION_KEY] = {"user": str(user.pk), "backend": user.backend,
                                            "at": time.time(), "next": next_url}


def pending(request):
    """(user, backend, next_url) of a pending login that has not expired, else None."""
    data = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(data, dict) or time.time() - data.get("at", 0) > settings.TWO_FACTOR_PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=data.get("user"), is_active=True).first()
    return (user, data["backend"], data.get("next") or "") if user else None


def clear_pending(request) -> None:
    request.session.pop(PENDING_SESSION_KEY, None)


def verify(user, code: str):
    """The device (TOTP or recovery codes) that accepts code, or None. A recovery code works once."""
    return django_otp.match_token(user, code)


# --- enrolment --------------------------------------------------------------------------------------------------
def start_enrolment(user) -> TOTPDevice:
    """A fresh unconfirmed TOTP device; earlier unfinished enrolments are discarded."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def unconfirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def secret_of(device: TOTPDevice) -> str:
    """The base32 secret people type into an authenticator app when they cannot scan the QR code."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (segno, no external service sees the secret)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, omitsize=False)


def confirm_enrolment(user, device: TOTPDevice) -> list[str]:
    """Confirm device and issue new recovery codes, returned once (the caller shows them, nobody stores them)."""
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return regenerate_recovery_codes(user)


def regenerate_recovery_codes(user) -> list[str]:
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        static = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


def disable(user) -> None:
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
