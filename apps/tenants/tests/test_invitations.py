from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from apps.tenants.models import ClientAccess, Invitation, Membership, User
from tests.faults import free_port, send_mail_through, silent_server

from .conftest import MALFORMED, link_in

NEW_PASSWORD = "saffron-glacier-2049"


def invite_url(client_obj):
    return reverse("tenants:client_invite", kwargs={"client_id": client_obj.pk})


def accept_url(token):
    return reverse("tenants:invitation_accept", args=[token])


# --- founder invitations ------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_checks_ownership(cast, client):
    for outsider, target in ((cast.charlie, cast.nova), (cast.fiona, cast.nova), (cast.fiona, cast.orbit),
                             (cast.bob, cast.rival)):
        client.force_login(outsider)
        assert client.get(invite_url(target)).status_code == 404, (outsider, target)
        assert client.post(invite_url(target), {"email": "evil@x.test"}).status_code == 404, (outsider, target)
    client.logout()
    assert client.get(invite_url(cast.nova)).status_code == 404
    assert not Invitation.objects.exists() and mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize("inviter", ["alice", "bob"])
def test_consultants_and_owners_invite_a_founder_to_one_client(cast, login, inviter):
    client = login(getattr(cast, inviter))
    page = client.get(invite_url(cast.nova))
    assert page.status_code == 200 and "fiona@nova.test" in page.content.decode()  # existing founder listed
    response = client.post(invite_url(cast.orbit), {"email": "Olga@Orbit.test"})
    assert response.status_code == 302 and response.url == invite_url(cast.orbit)
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.client, invitation.workspace) == (
        "olga@orbit.test", "founder", cast.orbit, cast.acme)
    message = mail.outbox[0]
    assert message.to == ["olga@orbit.test"] and "Orbit Chat" in message.subject
    assert "olga@orbit.test" in client.get(invite_url(cast.orbit)).content.decode()  # pending list


@pytest.mark.django_db
def test_a_founder_accepts_as_a_new_person_and_lands_on_the_portal(cast, login, client):
    login(cast.bob).post(invite_url(cast.orbit), {"email": "olga@orbit.test"})
    client.logout()
    path = link_in(mail.outbox[0])
    page = client.get(path)
    assert page.status_code == 200 and "olga@orbit.test" in page.content.decode()
    response = client.post(path, {"name": "Olga Founder", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response.url == reverse("sprints:portal")
    olga = User.objects.get(email="olga@orbit.test")
    assert olga.name == "Olga Founder" and olga.check_password(NEW_PASSWORD)
    assert list(ClientAccess.objects.filter(user=olga).values_list("client", flat=True)) == [cast.orbit.pk]
    assert not Membership.objects.filter(user=olga).exists()
    assert int(client.session["_auth_user_id"]) == olga.pk
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == olga and invitation.accepted_at
    client.logout()
    assert client.get(path).status_code == 410  # the emailed link worked exactly once


@pytest.mark.django_db
def test_the_link_works_exactly_once(cast, client):
    invitation, token = Invitation.issue(workspace=cast.acme, client=cast.orbit, email="olga@orbit.test",
                                         role="founder", invited_by=cast.bob)
    assert client.post(accept_url(token), {"name": "Olga", "password": NEW_PASSWORD}).status_code == 302
    client.logout()
    again = client.get(accept_url(token))
    assert again.status_code == 410 and "already used" in again.content.decode()
    again = client.post(accept_url(token), {"name": "Mallory", "password": NEW_PASSWORD})
    assert again.status_code == 410
    assert User.objects.filter(email="olga@orbit.test").count() == 1


@pytest.mark.django_db
def test_an_expired_link_is_a_clear_page(cast, client):
    invitation, token = Invitation.issue(workspace=cast.acme, email="late@acme.test", role="consultant",
                                         invited_by=cast.alice)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for response in (client.get(accept_url(token)),
                     client.post(accept_url(token), {"name": "Late", "password": NEW_PASSWORD})):
        assert response.status_code == 410 and "expired" in response.content.decode()
    assert not User.objects.filter(email="late@acme.test").exists()


@pytest.mark.django_db
def test_invitations_expire_after_the_configured_days(cast, settings):
    settings.INVITATION_MAX_AGE_DAYS = 3
    invitation, _ = Invitation.issue(workspace=cast.acme, email="x@acme.test", role="consultant",
                                     invited_by=cast.alice)
    assert timedelta(days=2, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=3)


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["unknown-token", "x" * 150, "%00", "<script>"])
def test_unknown_tokens_are_a_clear_404(cast, client, token):
    response = client.get(accept_url(token))
    assert response.status_code == 404 and "don't know this invitation" in response.content.decode()
    assert client.post(accept_url(token), {"name": "x", "password": NEW_PASSWORD}).status_code == 404


@pytest.mark.django_db
def test_a_logged_in_person_with_the_invited_email_accepts_with_one_click(cast, login):
    invitation, token = Invitation.issue(workspace=cast.acme, email="charlie@other.test", role="consultant",
                                         invited_by=cast.alice)
    client = login(cast.charlie)
    page = client.get(accept_url(token))
    assert page.status_code == 200 and "Accept invitation" in page.content.decode()
    response = client.post(accept_url(token))
    assert response.status_code == 302 and response.url == reverse("home")
    assert Membership.objects.get(user=cast.charlie, workspace=cast.acme).role == "consultant"
    assert client.post(accept_url(token)).status_code == 410


@pytest.mark.django_db
def test_an_existing_founder_accepting_a_second_client_lands_on_the_portal(cast, login):
    _, token = Invitation.issue(workspace=cast.acme, client=cast.orbit, email="fiona@nova.test", role="founder",
                                invited_by=cast.alice)
    response = login(cast.fiona).post(accept_url(token))
    assert response.url == reverse("sprints:portal")
    assert set(ClientAccess.objects.filter(user=cast.fiona).values_list("client", flat=True)) == {
        cast.nova.pk, cast.orbit.pk}


@pytest.mark.django_db
def test_a_logged_in_person_with_another_email_is_told_to_log_out(cast, login):
    invitation, token = Invitation.issue(workspace=cast.acme, email="someone@acme.test", role="owner",
                                         invited_by=cast.alice)
    client = login(cast.charlie)
    page = client.get(accept_url(token))
    html = page.content.decode()
    assert page.status_code == 200 and "Log out first" in html and "charlie@other.test" in html
    assert "Accept invitation" not in html
    client.post(accept_url(token))
    assert not Membership.objects.filter(user=cast.charlie, workspace=cast.acme).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    # The page's log-out button brings them back to the invitation, logged out.
    response = client.post(reverse("tenants:logout"), {"next": accept_url(token)})
    assert response.url == accept_url(token)
    assert "Create account and accept" in client.get(accept_url(token)).content.decode()


@pytest.mark.django_db
def test_an_anonymous_visitor_with_an_existing_account_is_asked_to_log_in(cast, client):
    _, token = Invitation.issue(workspace=cast.acme, email="charlie@other.test", role="consultant",
                                invited_by=cast.alice)
    page = client.get(accept_url(token))
    assert "log in to accept" in page.content.decode().lower()
    client.post(accept_url(token), {"name": "Impostor", "password": NEW_PASSWORD})
    assert User.objects.filter(email="charlie@other.test").count() == 1
    assert not Membership.objects.filter(user=cast.charlie, workspace=cast.acme).exists()
    # Logging in brings them back to the invitation.
    response = client.post(page.context["login_url"], {"username": "charlie@other.test", "password": cast.password,
                                                       "next": accept_url(token)})
    assert response.url == accept_url(token)


@pytest.mark.django_db
@pytest.mark.parametrize("data, field", [
    ({"name": "Olga", "password": "short"}, "password"),
    ({"name": "Olga", "password": "olga@orbit.test"}, "password"),
    ({"name": "", "password": NEW_PASSWORD}, "name"),
    ({"name": "n" * 151, "password": NEW_PASSWORD}, "name"),
])
def test_acceptance_form_refuses_bad_values(cast, client, data, field):
    _, token = Invitation.issue(workspace=cast.acme, client=cast.orbit, email="olga@orbit.test", role="founder",
                                invited_by=cast.bob)
    response = client.post(accept_url(token), data)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not User.objects.filter(email="olga@orbit.test").exists()
    assert Invitation.find_usable(token)


@pytest.mark.django_db
@pytest.mark.parametrize("label", ["overlong", "nul", "unicode-controls"])
def test_acceptance_form_refuses_malformed_values(cast, client, label):
    _, token = Invitation.issue(workspace=cast.acme, client=cast.orbit, email="olga@orbit.test", role="founder",
                                invited_by=cast.bob)
    response = client.post(accept_url(token), {"name": MALFORMED[label], "password": MALFORMED[label]})
    assert response.status_code == 200 and response.context["form"].errors
    assert not User.objects.filter(email="olga@orbit.test").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("label", ["html", "number", "date"])
def test_odd_but_harmless_names_are_kept_as_text_and_escaped(cast, client, label):
    # A name is free text: markup is not refused but stored verbatim and escaped wherever it is shown.
    _, token = Invitation.issue(workspace=cast.acme, client=cast.orbit, email="olga@orbit.test", role="founder",
                                invited_by=cast.bob)
    client.post(accept_url(token), {"name": MALFORMED[label], "password": NEW_PASSWORD})
    assert User.objects.get(email="olga@orbit.test").name == MALFORMED[label]
    html = client.get(reverse("tenants:account")).content.decode()
    assert "<script>" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("email, fragment", [
    ("fiona@nova.test", "already see this client"),
    ("BOB@acme.test", "member of this workspace"),
    ("not-an-email", "valid email"),
])
def test_founder_invite_refuses_people_who_already_have_access(cast, login, email, fragment):
    response = login(cast.alice).post(invite_url(cast.nova), {"email": email})
    assert response.status_code == 200 and fragment in response.context["form"].errors["email"][0]
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize("label", MALFORMED)
def test_founder_invite_refuses_malformed_values(cast, login, label):
    response = login(cast.bob).post(invite_url(cast.nova), {"email": MALFORMED[label]})
    assert response.status_code == 200 and "email" in response.context["form"].errors
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_consultants_revoke_founder_invitations_but_not_workspace_ones(cast, login):
    founder_inv, _ = Invitation.issue(workspace=cast.acme, client=cast.orbit, email="olga@orbit.test",
                                      role="founder", invited_by=cast.bob)
    member_inv, _ = Invitation.issue(workspace=cast.acme, email="x@acme.test", role="owner", invited_by=cast.alice)
    client = login(cast.bob)
    revoke = "tenants:invitation_revoke"
    response = client.post(reverse(revoke, kwargs={"invitation_id": founder_inv.pk}))
    assert response.status_code == 302 and response.url == invite_url(cast.orbit)
    assert client.post(reverse(revoke, kwargs={"invitation_id": member_inv.pk})).status_code == 404
    assert list(Invitation.objects.values_list("pk", flat=True)) == [member_inv.pk]


@pytest.mark.django_db
def test_a_founder_cannot_revoke_invitations(cast, login):
    founder_inv, _ = Invitation.issue(workspace=cast.acme, client=cast.nova, email="co@nova.test",
                                      role="founder", invited_by=cast.bob)
    response = login(cast.fiona).post(reverse("tenants:invitation_revoke", kwargs={"invitation_id": founder_inv.pk}))
    assert response.status_code == 404
    assert Invitation.objects.filter(pk=founder_inv.pk).exists()


@pytest.mark.django_db
def test_when_the_mail_server_refuses_the_invitation_is_withdrawn_and_the_form_says_so(cast, login, settings):
    client = login(cast.bob)
    send_mail_through(settings, free_port())  # nobody listens: connection refused
    response = client.post(invite_url(cast.orbit), {"email": "olga@orbit.test"})
    assert response.status_code == 200
    assert "could not send the invitation email" in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_when_the_mail_server_hangs_the_invitation_is_withdrawn_and_the_form_says_so(cast, login, settings):
    client = login(cast.bob)
    with silent_server() as port:
        send_mail_through(settings, port, timeout=0.3)
        response = client.post(invite_url(cast.orbit), {"email": "olga@orbit.test"})
    assert response.status_code == 200
    assert "could not send the invitation email" in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_a_consultant_removes_a_founders_access_and_outsiders_cannot(cast, login):
    nova_page = reverse("clients:detail", kwargs={"client_id": cast.nova.pk})
    assert login(cast.fiona).get(nova_page).status_code == 200
    access = ClientAccess.objects.get(user=cast.fiona, client=cast.nova)
    remove = reverse("tenants:founder_remove", kwargs={"client_id": cast.nova.pk})
    # Outsiders (another workspace's consultant, the founder herself) get 404; an access of another client is refused.
    for outsider in (cast.charlie, cast.fiona):
        assert login(outsider).post(remove, {"access": access.pk}).status_code == 404
    other = ClientAccess.objects.create(user=cast.fiona, client=cast.orbit)
    for value in (other.pk, "x", "", "99999999"):
        assert login(cast.bob).post(remove, {"access": value}).status_code == 302
    assert ClientAccess.objects.filter(pk__in=[access.pk, other.pk]).count() == 2
    assert login(cast.bob).get(remove).status_code == 405
    page = login(cast.bob).get(invite_url(cast.nova)).content.decode()
    assert "Remove access" in page and cast.fiona.email in page
    response = login(cast.bob).post(remove, {"access": access.pk})
    assert response.status_code == 302 and response.url == invite_url(cast.nova)
    assert not ClientAccess.objects.filter(pk=access.pk).exists()
    assert cast.nova.activity.filter(actor=cast.bob, text__contains="founder access").exists()
    assert login(cast.fiona).get(nova_page).status_code == 404  # at once, with her session still open


@pytest.mark.django_db
def test_removing_a_consultant_withdraws_the_invitations_they_sent(cast, login):
    _sent, token = Invitation.issue(workspace=cast.acme, client=cast.nova, email="bob.private@mail.test",
                                    role="founder", invited_by=cast.bob)
    kept, _ = Invitation.issue(workspace=cast.acme, client=cast.orbit, email="olga@orbit.test", role="founder",
                               invited_by=cast.alice)
    membership = Membership.objects.get(user=cast.bob, workspace=cast.acme)
    response = login(cast.alice).post(reverse("tenants:member_remove", kwargs={"workspace_id": cast.acme.pk}),
                                      {"membership": membership.pk})
    assert response.status_code == 302
    assert list(Invitation.objects.values_list("pk", flat=True)) == [kept.pk]
    assert Invitation.find(token) is None  # before: the link still worked for a week after Bob was removed
