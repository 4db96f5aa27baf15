import pytest
from django.urls import reverse

from apps.tenants import throttle
from tests.faults import cache_down

LOGIN = reverse("tenants:login")


def _attempt(client, email, password, ip="203.0.113.7"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_an_account_is_locked_after_repeated_failures_even_for_the_right_password(cast, client, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        response = _attempt(client, "alice@acme.test", "wrong-password-1")
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = _attempt(client, "ALICE@acme.test", cast.password)
    assert response.status_code == 200
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_lock_is_per_account_other_accounts_still_log_in(cast, client, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        _attempt(client, "alice@acme.test", "wrong-password-1")
    response = _attempt(client, "bob@acme.test", cast.password)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.bob.pk)


@pytest.mark.django_db
def test_a_guesser_elsewhere_does_not_lock_the_owner_out(cast, client, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(6):  # before: three bad guesses from anywhere kept Alice out for the whole window
        _attempt(client, "alice@acme.test", "wrong-password-1", ip="198.51.100.66")
    assert "Too many failed attempts" in _attempt(client, "alice@acme.test", cast.password,
                                                   ip="198.51.100.66").content.decode()
    assert _attempt(client, "alice@acme.test", cast.password, ip="203.0.113.7").status_code == 302


@pytest.mark.django_db
def test_guessing_one_account_from_many_ips_is_capped(cast, client, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT_ANY_IP = 4
    for n in range(4):
        _attempt(client, "alice@acme.test", "wrong-password-1", ip=f"198.51.100.{n + 1}")
    refused = _attempt(client, "alice@acme.test", cast.password, ip="198.51.100.200")
    assert "Too many failed attempts" in refused.content.decode() and "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_an_ip_is_locked_after_failures_across_many_accounts(cast, client, settings):
    settings.LOGIN_FAILURES_PER_IP = 4
    for n in range(4):
        _attempt(client, f"nobody{n}@spray.test", "wrong-password-1", ip="198.51.100.9")
    refused = _attempt(client, "bob@acme.test", cast.password, ip="198.51.100.9")
    assert "Too many failed attempts" in refused.content.decode()
    allowed = _attempt(client, "bob@acme.test", cast.password, ip="198.51.100.10")
    assert allowed.status_code == 302


@pytest.mark.django_db
def test_a_successful_login_resets_the_account_counter(cast, client, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    _attempt(client, "alice@acme.test", "wrong-password-1")
    _attempt(client, "alice@acme.test", "wrong-password-1")
    assert _attempt(client, "alice@acme.test", cast.password).status_code == 302
    client.logout()
    _attempt(client, "alice@acme.test", "wrong-password-1")
    _attempt(client, "alice@acme.test", "wrong-password-1")
    assert _attempt(client, "alice@acme.test", cast.password).status_code == 302


@pytest.mark.django_db
def test_the_lock_ends_with_its_window(cast, client, settings):
    from django.core.cache import cache

    settings.LOGIN_FAILURES_PER_ACCOUNT = 2
    _attempt(client, "alice@acme.test", "wrong-password-1")
    _attempt(client, "alice@acme.test", "wrong-password-1")
    assert throttle.is_locked("alice@acme.test", "203.0.113.7")
    cache.clear()  # what the window's expiry does
    assert _attempt(client, "alice@acme.test", cast.password).status_code == 302


@pytest.mark.django_db
def test_the_admin_login_goes_through_the_throttled_login_page(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response.url.startswith(LOGIN)


@pytest.mark.django_db
def test_logins_keep_working_when_the_cache_is_down(cast, client, settings, caplog):
    cache_down(settings)
    assert _attempt(client, "alice@acme.test", "wrong-password-1").status_code == 200
    assert _attempt(client, "alice@acme.test", cast.password).status_code == 302
    assert "login throttle unavailable" in caplog.text
