import uuid

from django.urls import reverse, set_script_prefix

from apps.core.links import object_url


def test_object_url_is_reverse():
    pk = uuid.uuid4()
    assert object_url("sprints:detail", sprint_id=pk) == reverse("sprints:detail", kwargs={"sprint_id": pk})
    assert object_url("sprints:detail", sprint_id=uuid.uuid4()) != object_url("sprints:detail", sprint_id=pk)
    assert object_url("sprints:dashboard") == reverse("sprints:dashboard")
    assert object_url("clients:hostname_edit", hostname_id=pk) == reverse("clients:hostname_edit",
                                                                          kwargs={"hostname_id": pk})


def test_object_url_follows_the_script_prefix():
    pk = uuid.uuid4()
    try:
        set_script_prefix("/mounted/")
        assert object_url("sprints:detail", sprint_id=pk) == f"/mounted/sprints/{pk}/"
    finally:
        set_script_prefix("/")
    assert object_url("sprints:detail", sprint_id=pk) == f"/sprints/{pk}/"


def test_anything_but_a_uuid_goes_through_reverse():
    assert object_url("sprints:detail", sprint_id=str(uuid.UUID(int=7))) == reverse(
        "sprints:detail", kwargs={"sprint_id": str(uuid.UUID(int=7))})
