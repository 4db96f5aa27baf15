import re
import time

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.tenants import two_factor

from .conftest import MALFORMED, link_in

LOGIN = reverse("tenants:login")
VERIFY = reverse("tenants:login_verify")


def _code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _fresh(device):
    """Let the current code be used again and lift django-otp's own back-off after a wrong code (tests run within
    one 30-second step and faster than the back-off)."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0,
                                                   throttling_failure_timestamp=None)
    device.refresh_from_db()
    return device


def _enrol(client, user):
    client.force_login(user)
    setup = client.post(reverse("tenants:two_factor_setup"))
    assert setup.status_code == 200
    device = two_factor.unconfirmed_device(user)
    assert two_factor.secret_of(device) in setup.content.decode() and "<svg" in setup.content.decode()
    done = client.post(reverse("tenants:two_factor_confirm"), {"code": _code(device)})
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    assert len(codes) == 10
    client.logout()
    return _fresh(TOTPDevice.objects.get(user=user, confirmed=True)), codes


@pytest.mark.django_db
def test_enrolment_shows_the_secret_once_and_turns_two_factor_on(cast, client):
    device, _codes = _enrol(client, cast.bob)
    assert two_factor.is_enabled(cast.bob)
    client.force_login(cast.bob)
    page = client.get(reverse("tenants:two_factor")).content.decode()
    assert "On" in page and two_factor.secret_of(device) not in page


@pytest.mark.django_db
def test_enrolment_with_a_wrong_code_does_not_turn_it_on(cast, login):
    client = login(cast.bob)
    client.post(reverse("tenants:two_factor_setup"))
    response = client.post(reverse("tenants:two_factor_confirm"), {"code": "000000"})
    assert response.status_code == 200 and "not valid" in response.content.decode()
    assert not two_factor.is_enabled(cast.bob)


@pytest.mark.django_db
def test_login_with_two_factor_needs_a_code_before_the_session_is_logged_in(cast, client):
    device, _ = _enrol(client, cast.bob)
    response = client.post(LOGIN, {"username": "bob@acme.test", "password": cast.password, "next": "/clients/"})
    assert response.status_code == 302 and response.url == VERIFY
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("tenants:account")).status_code == 302  # still anonymous

    wrong = client.post(VERIFY, {"code": "123456" if _code(device) != "123456" else "654321"})
    assert wrong.status_code == 200 and "not valid" in wrong.content.decode()
    assert "_auth_user_id" not in client.session

    right = client.post(VERIFY, {"code": _code(_fresh(device))})
    assert right.status_code == 302 and right.url == "/clients/"
    assert client.session["_auth_user_id"] == str(cast.bob.pk)
    assert client.session.get("otp_device_id")


@pytest.mark.django_db
def test_a_recovery_code_logs_in_once(cast, client):
    _device, codes = _enrol(client, cast.bob)
    client.post(LOGIN, {"username": "bob@acme.test", "password": cast.password})
    assert client.post(VERIFY, {"code": codes[0].upper()}).status_code == 302
    assert not StaticToken.objects.filter(token=codes[0]).exists()
    client.logout()
    client.post(LOGIN, {"username": "bob@acme.test", "password": cast.password})
    again = client.post(VERIFY, {"code": codes[0]})
    assert again.status_code == 200 and "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_users_without_two_factor_still_log_in_in_one_step(cast, client):
    response = client.post(LOGIN, {"username": "alice@acme.test", "password": cast.password})
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(cast.alice.pk)


@pytest.mark.django_db
def test_the_verify_step_without_a_password_step_goes_back_to_login(cast, client):
    assert client.get(VERIFY).url == LOGIN
    assert client.post(VERIFY, {"code": "123456"}).url == LOGIN


@pytest.mark.django_db
def test_a_pending_login_expires(cast, client, settings):
    device, _ = _enrol(client, cast.bob)
    client.post(LOGIN, {"username": "bob@acme.test", "password": cast.password})
    session = client.session
    session[two_factor.PENDING_SESSION_KEY]["at"] = time.time() - settings.TWO_FACTOR_PENDING_SECONDS - 1
    session.save()
    assert client.post(VERIFY, {"code": _code(device)}).url == LOGIN
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_code_guessing_is_throttled(cast, client, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    device, _ = _enrol(client, cast.bob)
    client.post(LOGIN, {"username": "bob@acme.test", "password": cast.password})
    for guess in ("111111", "222222", "333333"):
        client.post(VERIFY, {"code": guess})
    locked = client.post(VERIFY, {"code": _code(_fresh(device))})
    assert "Too many failed attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_next_url_after_two_factor_must_be_on_this_site(cast, client):
    device, _ = _enrol(client, cast.bob)
    client.post(LOGIN, {"username": "bob@acme.test", "password": cast.password, "next": "https://evil.test/"})
    assert client.post(VERIFY, {"code": _code(device)}).url == reverse("home")


@pytest.mark.django_db
def test_turning_two_factor_off_needs_a_current_code(cast, client):
    device, _ = _enrol(client, cast.bob)
    client.force_login(cast.bob)
    refused = client.post(reverse("tenants:two_factor_disable"), {"code": "000000"})
    assert refused.status_code == 200 and two_factor.is_enabled(cast.bob)
    client.post(reverse("tenants:two_factor_disable"), {"code": _code(_fresh(device))})
    assert not two_factor.is_enabled(cast.bob)


@pytest.mark.django_db
def test_a_password_reset_does_not_skip_the_second_factor(cast, client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _enrol(client, cast.bob)
    client.post(reverse("tenants:password_reset"), {"email": "bob@acme.test"})
    form_url = client.get(link_in(mail.outbox[0])).url
    response = client.post(form_url, {"new_password1": "plum-orbit-lantern-42", "new_password2": "plum-orbit-lantern-42"})
    assert response.status_code == 302 and response.url == LOGIN
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_two_factor_pages_need_login_and_post(cast, client, login):
    for name in ("two_factor", "two_factor_setup", "two_factor_confirm", "two_factor_disable"):
        assert client.get(reverse(f"tenants:{name}")).status_code == 302  # to login
    client = login(cast.bob)
    for name in ("two_factor_setup", "two_factor_confirm", "two_factor_disable"):
        assert client.get(reverse(f"tenants:{name}")).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(MALFORMED))
def test_code_forms_refuse_malformed_values(cast, client, label):
    device, _ = _enrol(client, cast.bob)
    client.post(LOGIN, {"username": "bob@acme.test", "password": cast.password})
    response = client.post(VERIFY, {"code": MALFORMED[label]})
    assert response.status_code == 200 and response.context["form"].errors["code"]
    assert client.post(VERIFY, {"code": _code(_fresh(device))}).status_code == 302
    response = client.post(reverse("tenants:two_factor_disable"), {"code": MALFORMED[label]})
    assert response.status_code == 200 and response.context["disable_form"].errors["code"]
    assert two_factor.is_enabled(cast.bob)
