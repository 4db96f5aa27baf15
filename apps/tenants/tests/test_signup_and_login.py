import pytest
from django.urls import reverse

from apps.tenants.models import Membership, User, Workspace

from .conftest import MALFORMED

SIGNUP = reverse("tenants:signup")
LOGIN = reverse("tenants:login")
GOOD = {"name": "Dana Doe", "email": "Dana@Example.test", "password": "plum-orbit-lantern-42",
        "workspace_name": "Dana & Partners"}


@pytest.mark.django_db
def test_signup_creates_user_workspace_and_owner_membership_and_logs_in(client):
    assert client.get(SIGNUP).status_code == 200
    response = client.post(SIGNUP, GOOD)
    assert response.status_code == 302 and response.url == reverse("home")
    user = User.objects.get(email="dana@example.test")
    assert user.name == "Dana Doe" and user.check_password(GOOD["password"])
    workspace = Workspace.objects.get(name="Dana & Partners")
    assert workspace.slug == "dana-partners"
    assert Membership.objects.get(user=user, workspace=workspace).role == "owner"
    assert client.get(reverse("tenants:account")).status_code == 200  # logged in


@pytest.mark.django_db
def test_signup_gives_each_workspace_a_unique_slug(client):
    Workspace.objects.create(name="Taken", slug="dana-partners")
    client.post(SIGNUP, GOOD)
    assert Workspace.objects.get(name="Dana & Partners").slug == "dana-partners-2"


@pytest.mark.django_db
def test_signup_slug_falls_back_when_the_name_has_no_latin_letters(client):
    client.post(SIGNUP, {**GOOD, "workspace_name": "東京コンサル"})
    assert Workspace.objects.get(name="東京コンサル").slug == "workspace"


@pytest.mark.django_db
def test_signup_refuses_a_taken_email_whatever_its_case(cast, client):
    response = client.post(SIGNUP, {**GOOD, "email": "ALICE@acme.test"})
    assert response.status_code == 200
    assert "already exists" in response.context["form"].errors["email"][0]
    assert not Workspace.objects.filter(name=GOOD["workspace_name"]).exists()


@pytest.mark.django_db
def test_a_double_submitted_signup_is_a_form_error_not_a_500(client):
    # Both submits pass the form's "email taken?" check; the other one inserts the user first. Stand-in for that
    # request: a row inserted just before ours (bulk_create sends no signal, so this runs once).
    from django.db.models.signals import pre_save

    def the_other_submit_wins(sender, instance, **kwargs):
        if instance._state.adding and instance.email == "dana@example.test":
            User.objects.bulk_create([User(email=instance.email, name="Dana (first submit)")])

    pre_save.connect(the_other_submit_wins, sender=User)
    try:
        response = client.post(SIGNUP, GOOD)
    finally:
        pre_save.disconnect(the_other_submit_wins, sender=User)
    assert response.status_code == 200
    assert "already exists" in response.context["form"].errors["email"][0]
    assert not Workspace.objects.filter(name=GOOD["workspace_name"]).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("password, fragment", [
    ("short1", "too short"),
    ("password123", "too common"),
    ("83749201938475", "entirely numeric"),
    ("dana@example.test", "too similar"),
])
def test_signup_runs_django_password_validators(client, password, fragment):
    response = client.post(SIGNUP, {**GOOD, "password": password})
    assert response.status_code == 200
    assert fragment in " ".join(response.context["form"].errors["password"])
    assert not User.objects.filter(email="dana@example.test").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("label", MALFORMED)
def test_signup_refuses_malformed_values_with_field_errors(client, label):
    value = MALFORMED[label]
    response = client.post(SIGNUP, {"name": value, "email": value, "password": value, "workspace_name": value})
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert not User.objects.exists()


@pytest.mark.django_db
def test_signup_refuses_overlong_names_and_empty_form(client):
    response = client.post(SIGNUP, {**GOOD, "name": "n" * 151, "workspace_name": "w" * 121})
    errors = response.context["form"].errors
    assert "name" in errors and "workspace_name" in errors
    response = client.post(SIGNUP, {})
    assert set(response.context["form"].errors) == {"name", "email", "password", "workspace_name"}


@pytest.mark.django_db
def test_signup_escapes_html_in_names(client):
    client.post(SIGNUP, {**GOOD, "name": "<b>Dana</b>", "workspace_name": "<script>x</script>"})
    page = client.get(reverse("tenants:account")).content.decode()
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


@pytest.mark.django_db
def test_logged_in_people_are_sent_home_from_signup(cast, login):
    assert login(cast.alice).get(SIGNUP).url == reverse("home")


@pytest.mark.django_db
def test_login_with_email_and_password_in_any_case(cast, client):
    page = client.get(LOGIN)
    assert page.status_code == 200 and "Email" in page.content.decode()
    response = client.post(LOGIN, {"username": " Alice@ACME.test ", "password": cast.password})
    assert response.status_code == 302 and response.url == reverse("home")
    assert int(client.session["_auth_user_id"]) == cast.alice.pk


@pytest.mark.django_db
def test_login_follows_a_safe_next_and_ignores_an_offsite_one(cast, client):
    account = reverse("tenants:account")
    response = client.post(LOGIN, {"username": "bob@acme.test", "password": cast.password, "next": account})
    assert response.url == account
    client.logout()
    response = client.post(LOGIN, {"username": "bob@acme.test", "password": cast.password,
                                   "next": "https://evil.example/"})
    assert response.url == reverse("home")


@pytest.mark.django_db
def test_login_refuses_a_wrong_password(cast, client):
    response = client.post(LOGIN, {"username": "alice@acme.test", "password": "wrong-password"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
@pytest.mark.parametrize("label", MALFORMED)
def test_login_refuses_malformed_values(cast, client, label):
    response = client.post(LOGIN, {"username": MALFORMED[label], "password": MALFORMED[label]})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_logout_is_a_post(cast, login):
    client = login(cast.alice)
    assert client.get(reverse("tenants:logout")).status_code == 405
    response = client.post(reverse("tenants:logout"))
    assert response.status_code == 302 and response.url == LOGIN
    assert "_auth_user_id" not in client.session
