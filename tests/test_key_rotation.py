"""Rotating SECRET_KEY (docs/operations.md): with the old key in SECRET_KEY_FALLBACKS nobody is logged out and
emailed links keep working; once the fallback is removed, both stop working."""

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
