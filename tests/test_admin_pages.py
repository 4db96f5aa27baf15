"""Every model registered in the Django admin: its list, add and change pages render for an operator (the admin is
how an operator fixes data by hand, so a page that crashes is found here, not during an incident)."""

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.tenants.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    client.force_login(User.objects.create_superuser("ops@launchready.test", "an-operator-password-7"))
    return client


def test_every_admin_list_add_and_change_page_renders(operator, cast):
    checked = []
    for model, _model_admin in sorted(admin.site._registry.items(), key=lambda pair: pair[0]._meta.label):
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        assert operator.get(reverse(f"{name}_changelist")).status_code == 200, model
        assert operator.get(reverse(f"{name}_changelist") + "?q=acme").status_code == 200, model
        assert operator.get(reverse(f"{name}_add")).status_code in (200, 403), model  # 403: adding is not offered
        first = model._default_manager.first()
        if first is not None:
            assert operator.get(reverse(f"{name}_change", args=[first.pk])).status_code == 200, model
        checked.append(model._meta.label)
    assert "tenants.User" in checked and "clients.Client" in checked and len(checked) >= 30
