"""Bodies larger than the largest accepted upload are refused before Django streams them to disk."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_a_body_declared_larger_than_any_upload_is_refused_unread(cast, login, settings):
    settings.REPO_UPLOAD_MAX_BYTES = 1024
    web = login(cast.alice)
    url = reverse("clients:repository_edit", kwargs={"client_id": cast.nova.pk})
    huge = b"x" * (1024 + 1024 * 1024 + 1)
    response = web.post(url, {"repo_upload": huge}, CONTENT_LENGTH=str(len(huge) + 200))
    assert response.status_code == 413 and "larger than" in response.content.decode()
    assert web.get(url).status_code == 200  # ordinary requests are untouched
    response = web.post(url, {"repo_url": ""})
    assert response.status_code in (200, 302)
