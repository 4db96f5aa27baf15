from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse

from apps.tenants.models import Invitation, Membership

from .conftest import MALFORMED, link_in


def url(name, workspace):
    return reverse(f"tenants:{name}", kwargs={"workspace_id": workspace.pk})


def revoke_url(invitation):
    return reverse("tenants:invitation_revoke", kwargs={"invitation_id": invitation.pk})


@pytest.mark.django_db
def test_it_checks_ownership(cast, client):
    invitation, _ = Invitation.issue(workspace=cast.acme, email="x@acme.test", role="consultant",
                                     invited_by=cast.alice)
    bob_membership = Membership.objects.get(user=cast.bob)
    for outsider in (cast.charlie, cast.fiona):
        client.force_login(outsider)
        for name in ("members", "member_invite", "member_remove"):
            assert client.get(url(name, cast.acme)).status_code == 404, (outsider, name)
        assert client.post(url("member_invite", cast.acme), {"email": "evil@x.test", "role": "owner"}).status_code == 404
        assert client.post(url("member_remove", cast.acme), {"membership": bob_membership.pk}).status_code == 404
        assert client.post(revoke_url(invitation)).status_code == 404
    client.logout()
    assert client.get(url("members", cast.acme)).status_code == 404
    assert Membership.objects.filter(pk=bob_membership.pk).exists()
    assert Invitation.objects.filter(pk=invitation.pk).exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_consultants_see_members_but_cannot_change_them(cast, login):
    invitation, _ = Invitation.issue(workspace=cast.acme, email="x@acme.test", role="consultant",
                                     invited_by=cast.alice)
    client = login(cast.bob)
    page = client.get(url("members", cast.acme))
    assert page.status_code == 200
    html = page.content.decode()
    assert "alice@acme.test" in html and "x@acme.test" in html
    assert "Send invitation" not in html and "Remove" not in html and "Revoke" not in html
    assert client.post(url("member_invite", cast.acme), {"email": "new@x.test", "role": "owner"}).status_code == 404
    alice_membership = Membership.objects.get(user=cast.alice)
    assert client.post(url("member_remove", cast.acme), {"membership": alice_membership.pk}).status_code == 404
    assert client.post(revoke_url(invitation)).status_code == 404
    assert Membership.objects.filter(workspace=cast.acme).count() == 2


@pytest.mark.django_db
def test_members_page_lists_members_roles_and_pending_invitations(cast, login):
    Invitation.issue(workspace=cast.acme, email="pending@acme.test", role="owner", invited_by=cast.alice)
    used, _ = Invitation.issue(workspace=cast.acme, email="used@acme.test", role="consultant", invited_by=cast.alice)
    used.accept(cast.charlie)
    page = login(cast.alice).get(url("members", cast.acme))
    invitations = list(page.context["invitations"])
    assert [i.email for i in invitations] == ["pending@acme.test"]
    html = page.content.decode()
    assert "Bob Consultant" in html and "Owner" in html and "Consultant" in html


@pytest.mark.django_db
def test_members_page_is_read_only(cast, login):
    assert login(cast.alice).post(url("members", cast.acme)).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["consultant", "owner"])
def test_owner_invites_and_the_email_link_adds_the_member(cast, login, client, role):
    owner = login(cast.alice)
    response = owner.post(url("member_invite", cast.acme), {"email": "Newbie@Acme.test", "role": role})
    assert response.status_code == 302 and response.url == url("members", cast.acme)
    invitation = Invitation.objects.get(email="newbie@acme.test")
    assert invitation.role == role and invitation.invited_by == cast.alice and invitation.client is None
    assert mail.outbox[0].to == ["newbie@acme.test"] and "Acme Advisory" in mail.outbox[0].subject
    owner.logout()
    path = link_in(mail.outbox[0])
    response = client.post(path, {"name": "New Bie", "password": "quartz-meadow-7781"})
    assert response.status_code == 302 and response.url == reverse("home")
    assert Membership.objects.get(user__email="newbie@acme.test", workspace=cast.acme).role == role


@pytest.mark.django_db
def test_inviting_again_replaces_the_pending_link(cast, login):
    client = login(cast.alice)
    client.post(url("member_invite", cast.acme), {"email": "twice@acme.test", "role": "consultant"})
    client.post(url("member_invite", cast.acme), {"email": "twice@acme.test", "role": "consultant"})
    assert Invitation.objects.filter(email="twice@acme.test").count() == 1
    first, second = link_in(mail.outbox[0]), link_in(mail.outbox[1])
    client.logout()
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("data, field", [
    ({"email": "BOB@acme.test", "role": "consultant"}, "email"),   # already a member
    ({"email": "someone@x.test", "role": "founder"}, "role"),      # founders are invited to a client
    ({"email": "someone@x.test", "role": "admin"}, "role"),
    ({"email": "not an email", "role": "consultant"}, "email"),
    ({}, "email"),
])
def test_invite_refuses_bad_requests(cast, login, data, field):
    response = login(cast.alice).post(url("member_invite", cast.acme), data)
    assert response.status_code == 200 and field in response.context["invite_form"].errors
    assert mail.outbox == [] and not Invitation.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("label", MALFORMED)
def test_invite_refuses_malformed_values(cast, login, label):
    response = login(cast.alice).post(url("member_invite", cast.acme), {"email": MALFORMED[label],
                                                                       "role": MALFORMED[label]})
    assert response.status_code == 200
    assert {"email", "role"} <= set(response.context["invite_form"].errors)
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_owner_removes_a_consultant(cast, login):
    membership = Membership.objects.get(user=cast.bob)
    response = login(cast.alice).post(url("member_remove", cast.acme), {"membership": membership.pk})
    assert response.status_code == 302 and response.url == url("members", cast.acme)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert cast.bob.__class__.objects.filter(pk=cast.bob.pk).exists()  # the account stays


@pytest.mark.django_db
def test_the_last_owner_cannot_be_removed(cast, login):
    alice_membership = Membership.objects.get(user=cast.alice)
    client = login(cast.alice)
    assert "Last owner" in client.get(url("members", cast.acme)).content.decode()
    response = client.post(url("member_remove", cast.acme), {"membership": alice_membership.pk})
    assert response.status_code == 200
    assert "at least one owner" in response.content.decode()
    assert Membership.objects.filter(pk=alice_membership.pk).exists()


@pytest.mark.django_db
def test_the_model_refuses_to_remove_the_last_owner_too(cast):
    from apps.tenants.models import LastOwnerError

    with pytest.raises(LastOwnerError):
        Membership.objects.get(user=cast.alice).remove()


@pytest.mark.django_db
def test_an_owner_with_a_co_owner_may_leave(cast, login):
    Membership.objects.filter(user=cast.bob).update(role="owner")
    alice_membership = Membership.objects.get(user=cast.alice)
    response = login(cast.alice).post(url("member_remove", cast.acme), {"membership": alice_membership.pk})
    assert response.status_code == 302 and response.url == reverse("tenants:account")
    assert list(cast.acme.memberships.values_list("user__email", flat=True)) == ["bob@acme.test"]


@pytest.mark.django_db
def test_owner_cannot_remove_members_of_another_workspace(cast, login):
    charlie_membership = Membership.objects.get(user=cast.charlie)
    response = login(cast.alice).post(url("member_remove", cast.acme), {"membership": charlie_membership.pk})
    assert response.status_code == 200 and "membership" in response.context["removal_form"].errors
    assert Membership.objects.filter(pk=charlie_membership.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("label", MALFORMED)
def test_remove_refuses_malformed_values(cast, login, label):
    response = login(cast.alice).post(url("member_remove", cast.acme), {"membership": MALFORMED[label]})
    assert response.status_code == 200 and "membership" in response.context["removal_form"].errors
    assert Membership.objects.count() == 3


@pytest.mark.django_db
def test_owner_revokes_a_pending_invitation_and_its_link_stops_working(cast, login):
    client = login(cast.alice)
    client.post(url("member_invite", cast.acme), {"email": "maybe@acme.test", "role": "consultant"})
    invitation = Invitation.objects.get(email="maybe@acme.test")
    assert client.get(revoke_url(invitation)).status_code == 405
    response = client.post(revoke_url(invitation))
    assert response.status_code == 302 and response.url == url("members", cast.acme)
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
    client.logout()
    assert client.get(link_in(mail.outbox[0])).status_code == 404


@pytest.mark.django_db
def test_revoking_an_accepted_invitation_changes_nothing(cast, login):
    invitation, _ = Invitation.issue(workspace=cast.acme, email="charlie@other.test", role="consultant",
                                     invited_by=cast.alice)
    invitation.accept(cast.charlie)
    login(cast.alice).post(revoke_url(invitation))
    assert Invitation.objects.filter(pk=invitation.pk).exists()
    assert Membership.objects.filter(user=cast.charlie, workspace=cast.acme).exists()


@pytest.mark.django_db
def test_when_the_mail_server_is_down_no_invitation_is_left_behind(cast, login):
    with mock.patch("apps.tenants.emails.send_mail", side_effect=ConnectionRefusedError()):
        response = login(cast.alice).post(url("member_invite", cast.acme), {"email": "n@acme.test",
                                                                           "role": "consultant"})
    assert response.status_code == 200 and response.context["invite_form"].non_field_errors()
    assert not Invitation.objects.exists()
