"""Rotating SECRET_KEY (docs/operations.md): with the old key in SECRET_KEY_FALLBACKS nobody is logged out and
emailed links keep working; once the fallback is removed, both stop working.
Alert-channel secrets (Fernet, MONITORING_ENCRYPTION_KEYS): the old key decrypts until `rotate_encryption_keys` has
re-encrypted them with the new one. Deploy tokens are stored as sha256 hashes only (apps/deploys), so there is no key
to rotate for them: a leaked token is revoked and a new one issued."""

import io

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse

OLD, NEW = "old-" + "k" * 60, "new-" + "n" * 60


@pytest.mark.django_db
def test_sessions_survive_a_rotation_while_the_old_key_is_a_fallback(cast, settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD, []
    active, idle = Client(), Client()
    for browser in (active, idle):
        browser.post(reverse("tenants:login"), {"username": "alice@acme.test", "password": cast.password})
        assert browser.get(reverse("tenants:account")).status_code == 200

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    assert active.get(reverse("tenants:account")).status_code == 200  # and Django re-signs it with the new key

    settings.SECRET_KEY_FALLBACKS = []
    assert active.get(reverse("tenants:account")).status_code == 200
    assert idle.get(reverse("tenants:account")).status_code == 302  # not seen during the rotation: logged out


@pytest.mark.django_db
def test_password_reset_links_survive_a_rotation_while_the_old_key_is_a_fallback(cast, settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD, []
    token = default_token_generator.make_token(cast.alice)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    assert default_token_generator.check_token(cast.alice, token)
    settings.SECRET_KEY_FALLBACKS = []
    assert not default_token_generator.check_token(cast.alice, token)


# --- alert-channel secrets (MONITORING_ENCRYPTION_KEYS, apps/monitoring/crypto.py) ----------------------------------
def _channel(client):
    from apps.monitoring.models import AlertChannel

    channel = AlertChannel(client=client, kind="webhook", name="On-call hook", owner="Dana")
    channel.target, channel.secret = "https://hooks.example/T0/secret-path", "hmac-signing-key"
    channel.save()
    return channel


def _stored(channel):
    from apps.monitoring.models import AlertChannel

    return AlertChannel.objects.values_list("target_encrypted", "secret_encrypted").get(pk=channel.pk)


def _readable(channel):
    from apps.monitoring.models import AlertChannel

    fresh = AlertChannel.objects.get(pk=channel.pk)
    return (fresh.target, fresh.secret) == ("https://hooks.example/T0/secret-path", "hmac-signing-key")


@pytest.mark.django_db
def test_channel_secrets_rotate_to_a_new_key_and_the_old_key_still_decrypts_meanwhile(cast, settings):
    from cryptography.fernet import Fernet, InvalidToken
    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.MONITORING_ENCRYPTION_KEYS = [old]
    channel = _channel(cast.nova)
    before = _stored(channel)
    assert "secret-path" not in str(before) and "hmac-signing-key" not in str(before)  # encrypted at rest

    settings.MONITORING_ENCRYPTION_KEYS = [new, old]  # step 1: the new key first, the old one still there
    assert _readable(channel)  # the old key still decrypts

    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)  # step 2: re-encrypt with the new key
    assert "re-encrypted 1 alert channel(s)" in out.getvalue() and "secret-path" not in out.getvalue()
    after = _stored(channel)
    assert after[0] != before[0] and after[1] != before[1]
    assert Fernet(new.encode()).decrypt(after[1].encode()) == b"hmac-signing-key"
    with pytest.raises(InvalidToken):
        Fernet(old.encode()).decrypt(after[1].encode())

    settings.MONITORING_ENCRYPTION_KEYS = [new]  # step 3: the old key is gone, the secrets are still readable
    assert _readable(channel)


@pytest.mark.django_db
def test_removing_the_old_key_before_rotating_is_reported_not_silently_lost(cast, settings):
    from cryptography.fernet import Fernet
    from django.core.management import CommandError, call_command

    settings.MONITORING_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    channel = _channel(cast.nova)
    settings.MONITORING_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_encryption_keys", stdout=io.StringIO())
    assert _stored(channel)[0]  # left as it was, for whoever still has the old key


@pytest.mark.django_db
def test_without_configured_keys_a_secret_key_rotation_keeps_channel_secrets(cast, settings):
    from django.core.management import call_command

    settings.MONITORING_ENCRYPTION_KEYS = []
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD, []
    channel = _channel(cast.nova)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    assert _readable(channel)
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.SECRET_KEY_FALLBACKS = []
    assert _readable(channel)
