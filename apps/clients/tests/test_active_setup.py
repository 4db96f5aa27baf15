"""The client page's active-check setup: ownership verification (against the test world), env-name uploads
(names only: no value reaches the database or the logs) and the repository for secret scanning."""

import io
import logging
import os
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from apps.checks import pipeline
from apps.clients.models import Client, EnvVar
from apps.sprints.models import ActivityEntry
from tests.testworld.ownership_sites import FILE_TOKEN, TXT_TOKEN

pytestmark = pytest.mark.django_db


@pytest.fixture
def world_state(testworld, settings, tmp_path):
    path = tmp_path / "testworld.json"
    testworld.write_state(path)
    settings.TESTWORLD_STATE_FILE = path
    return path


def world_client(cast, domain, token):
    return Client.objects.create(workspace=cast.acme, name=f"Client of {domain}", domain=domain,
                                 network_profile="testworld", verification_token=token)


def url(name, client):
    return reverse(f"clients:{name}", kwargs={"client_id": client.pk})


# --- the token ------------------------------------------------------------------------------------------------------
def test_every_client_gets_its_own_token_once(cast):
    first, second = cast.nova.verification_token, cast.orbit.verification_token
    assert first and second and first != second
    cast.nova.name = "Renamed"
    cast.nova.save()
    cast.nova.refresh_from_db()
    assert cast.nova.verification_token == first


def test_the_client_page_shows_both_methods_and_only_consultants_get_the_button(cast, login):
    page = login(cast.bob).get(url("detail", cast.nova)).content.decode()
    assert f"launchready-verify={cast.nova.verification_token}" in page
    assert "https://nova.example/.well-known/launchready-verify.txt" in page
    assert "Verify now" in page
    founder_page = login(cast.fiona).get(url("detail", cast.nova)).content.decode()
    # The founder controls the DNS, so sees what to publish; verifying is the consultant's button.
    assert f"launchready-verify={cast.nova.verification_token}" in founder_page
    assert "Verify now" not in founder_page and "Change repository" not in founder_page


# --- verification through the test world --------------------------------------------------------------------------
@pytest.mark.parametrize("domain, token, method", [
    ("owned-txt.lrtest", TXT_TOKEN, "dns_txt"),
    ("owned-file.lrtest", FILE_TOKEN, "well_known_file"),
])
def test_verify_now_records_either_method(cast, login, world_state, domain, token, method):
    client = world_client(cast, domain, token)
    response = login(cast.bob).post(url("verify_ownership", client), follow=True)
    client.refresh_from_db()
    assert client.ownership_verified and client.ownership_method == method
    assert client.ownership_result["verified"] is True
    assert "Ownership verified" in response.content.decode()
    assert ActivityEntry.objects.filter(client=client, text__contains="verified ownership").exists()


def test_a_wrong_token_is_refused_and_says_what_was_found(cast, login, world_state):
    client = world_client(cast, "owned-txt.lrtest", "not-the-right-token-0123456789")
    response = login(cast.bob).post(url("verify_ownership", client), follow=True)
    page = response.content.decode()
    client.refresh_from_db()
    assert not client.ownership_verified and client.ownership_method == ""
    assert "holds a different token" in page  # the TXT lookup found our prefix with another token
    assert "launchready-verify.txt" in page  # and the file that was fetched
    assert client.ownership_result["evidence"]["well_known_file"]["ok"] is False


def test_a_later_failure_withdraws_an_earlier_verification(cast, login, world_state):
    client = world_client(cast, "owned-txt.lrtest", TXT_TOKEN)
    client.verify_ownership()
    assert client.ownership_verified
    Client.objects.filter(pk=client.pk).update(verification_token="rotated-token-0123456789abcdef")
    client.refresh_from_db()
    client.verify_ownership()
    client.refresh_from_db()
    assert not client.ownership_verified


def test_verify_is_post_only_and_for_consultants(cast, login):
    assert login(cast.bob).get(url("verify_ownership", cast.nova)).status_code == 405
    assert login(cast.fiona).post(url("verify_ownership", cast.nova)).status_code == 404
    cast.nova.refresh_from_db()
    assert cast.nova.ownership_checked_at is None


def test_verify_without_the_test_world_profile_says_why(cast, login, settings, tmp_path):
    settings.TESTWORLD_STATE_FILE = tmp_path / "missing.json"
    client = world_client(cast, "owned-txt.lrtest", TXT_TOKEN)
    response = login(cast.bob).post(url("verify_ownership", client), follow=True)
    assert "Verification could not run" in response.content.decode()
    client.refresh_from_db()
    assert not client.ownership_verified


# --- env-name uploads ---------------------------------------------------------------------------------------------
SECRET_VALUE = "sk_live_51Hq8ZfLkPz3Qw7XyTr9Vb2Nm4Kc6Jd0Eh"
ENV_TEXT = (f"# production\nSTRIPE_SECRET_KEY={SECRET_VALUE}\nexport DATABASE_URL='postgres://u:pw-Zq8rT2@db/x'\n"
            "SENTRY_DSN=\nNEW_FLAG=on\n")


def env_file(text=ENV_TEXT, name=".env.production"):
    return SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text, content_type="text/plain")


def test_env_upload_stores_names_and_no_value(cast, login, caplog):
    caplog.set_level(logging.DEBUG)
    EnvVar.objects.create(client=cast.nova, name="SENTRY_DSN", environments=["staging"])
    response = login(cast.bob).post(url("env_upload", cast.nova),
                                    {"environment": "production", "env_file": env_file()}, follow=True)
    assert "Values were discarded" in response.content.decode()
    rows = {v.name: v for v in EnvVar.objects.filter(client=cast.nova)}
    assert set(rows) == {"STRIPE_SECRET_KEY", "DATABASE_URL", "SENTRY_DSN", "NEW_FLAG"}
    assert rows["SENTRY_DSN"].environments == ["staging", "production"]
    assert rows["NEW_FLAG"].environments == ["production"]
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    for value in (SECRET_VALUE, "pw-Zq8rT2", "postgres://u:"):
        assert value not in dump.getvalue()
        assert value not in caplog.text
        assert value not in response.content.decode()


def test_the_template_environment_marks_names_required(cast, login):
    login(cast.bob).post(url("env_upload", cast.nova),
                         {"environment": "example", "env_file": env_file("API_KEY=\nOTHER=x\n", ".env.example")})
    assert set(EnvVar.objects.filter(client=cast.nova, required=True).values_list("name", flat=True)) == {
        "API_KEY", "OTHER"}
    assert EnvVar.objects.get(client=cast.nova, name="API_KEY").environments == []


@pytest.mark.parametrize("data, field, message", [
    ({"environment": "production"}, "env_file", "required"),
    ({"environment": "nowhere", "env_file": "FILE"}, "environment", "valid choice"),
    ({"environment": "<script>alert(1)</script>", "env_file": "FILE"}, "environment", "valid choice"),
    ({"environment": "production", "env_file": b"\x00\x01binary"}, "env_file", "not a text file"),
    ({"environment": "production", "env_file": "just some prose, ünïcödé ✓\n"}, "env_file", "No variable names"),
    ({"environment": "production", "env_file": "A=" + "x" * 300_000}, "env_file", "larger than"),
])
def test_env_upload_refuses_malformed_input(cast, login, data, field, message):
    data = dict(data)
    if "env_file" in data:
        data["env_file"] = env_file(ENV_TEXT if data["env_file"] == "FILE" else data["env_file"])
    response = login(cast.bob).post(url("env_upload", cast.nova), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not EnvVar.objects.filter(client=cast.nova).exists()


def test_founders_cannot_upload_env_names(cast, login):
    response = login(cast.fiona).post(url("env_upload", cast.nova),
                                      {"environment": "production", "env_file": env_file()})
    assert response.status_code == 404
    assert not EnvVar.objects.filter(client=cast.nova).exists()


def test_every_scan_target_carries_the_env_inventory(cast):
    EnvVar.objects.create(client=cast.nova, name="DATABASE_URL", environments=["staging"], required=True)
    inventory = pipeline.target_for_client(cast.nova).options["env_inventory"]
    assert inventory == [{"name": "DATABASE_URL", "environments": ["staging"], "required": True, "secret": False}]


# --- the repository -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, message", [
    ("http://github.com/acme/app.git", "https://"),
    ("ftp://github.com/acme/app.git", "https://"),
    ("https://user:token@github.com/acme/app.git", "credentials"),
    ("https://github.com/acme/app.git?x=1", "query string"),
    ("https://github.com:99999/acme/app.git", "not usable"),
    ("file:///etc/passwd", "valid URL"),
    ("<script>alert(1)</script>", "valid URL"),
    ("https://" + "a" * 600 + ".example/", "at most 500"),
    ("ssh://git@github.com/acme/app.git", "valid URL"),
    ("𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ‮ \u200b", "valid URL"),
    ("https://exa mple.com/r.git", "valid URL"),
])
def test_repository_url_is_validated(cast, login, value, message):
    response = login(cast.bob).post(url("repository_edit", cast.nova), {"repo_url": value})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["repo_url"])
    cast.nova.refresh_from_db()
    assert cast.nova.repo_url == ""


def test_a_clone_url_reaches_the_scan_target(cast, login):
    login(cast.bob).post(url("repository_edit", cast.nova), {"repo_url": "https://github.com/acme/app.git"})
    cast.nova.refresh_from_db()
    assert cast.nova.repo_url == "https://github.com/acme/app.git"
    assert pipeline.target_for_client(cast.nova).options["repo"] == "https://github.com/acme/app.git"


@pytest.mark.parametrize("name, content, message", [
    ("repo.exe", b"MZ", "git bundle"),
    ("repo.txt", b"hello", "git bundle"),
    ("big.bundle", b"x" * 2048, "larger than"),
])
def test_repository_upload_is_validated(cast, login, settings, tmp_path, name, content, message):
    settings.MEDIA_ROOT = tmp_path
    settings.REPO_UPLOAD_MAX_BYTES = 1024
    response = login(cast.bob).post(url("repository_edit", cast.nova),
                                    {"repo_upload": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["repo_upload"])
    assert not list(tmp_path.rglob("*.*"))


GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Dev",
           "GIT_AUTHOR_EMAIL": "dev@example.test", "GIT_COMMITTER_NAME": "Dev",
           "GIT_COMMITTER_EMAIL": "dev@example.test", "PATH": os.environ["PATH"]}


def make_bundle(tmp_path) -> bytes:
    repo = tmp_path / "src"
    repo.mkdir()

    def git(*args):
        subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    (repo / "billing.py").write_text(f'STRIPE_KEY = "{SECRET_VALUE}"\n')
    git("add", "-A")
    git("commit", "-q", "-m", "billing")
    git("bundle", "create", str(tmp_path / "app.bundle"), "--all")
    return (tmp_path / "app.bundle").read_bytes()


def test_an_uploaded_bundle_is_scanned_masked_and_replaced_files_are_deleted(cast, login, settings, tmp_path,
                                                                             caplog):
    caplog.set_level(logging.DEBUG)
    settings.MEDIA_ROOT = tmp_path / "media"
    bundle = make_bundle(tmp_path)
    web = login(cast.bob)
    web.post(url("repository_edit", cast.nova), {"repo_upload": SimpleUploadedFile("app.bundle", bundle)})
    cast.nova.refresh_from_db()
    assert cast.nova.repo_upload_name == "app.bundle"
    first_file = cast.nova.repo_upload.path
    assert os.path.exists(first_file)
    page = web.get(url("detail", cast.nova)).content.decode()
    assert "app.bundle" in page

    scan = pipeline.run_scan_inline(client=cast.nova, only=["deploy.secrets_in_repo"])
    finding = scan.findings.get(check_id="deploy.secrets_in_repo")
    assert finding.status == "fail" and finding.target == "app.bundle"
    stored = io.StringIO()
    call_command("dumpdata", "checks", stdout=stored)
    assert SECRET_VALUE not in stored.getvalue() and SECRET_VALUE not in caplog.text
    assert "sk_l" in stored.getvalue()  # shown masked
    assert not list(tmp_path.glob("lr-repo-upload-*"))

    # Replacing the upload deletes the old file; removing it deletes the new one.
    web.post(url("repository_edit", cast.nova), {"repo_upload": SimpleUploadedFile("v2.bundle", bundle)})
    cast.nova.refresh_from_db()
    assert not os.path.exists(first_file) and os.path.exists(cast.nova.repo_upload.path)
    second_file = cast.nova.repo_upload.path
    web.post(url("repository_edit", cast.nova), {"remove_upload": "on", "repo_url": ""})
    cast.nova.refresh_from_db()
    assert not cast.nova.repo_upload and cast.nova.repo_upload_name == "" and not os.path.exists(second_file)
    assert "repo" not in pipeline.target_for_client(cast.nova).options


def test_a_unicode_host_is_accepted(cast, login):
    login(cast.bob).post(url("repository_edit", cast.nova), {"repo_url": "https://gït.example/acme/app.git"})
    cast.nova.refresh_from_db()
    assert cast.nova.repo_url.endswith("/acme/app.git")


def test_repository_and_env_pages_are_for_consultants(cast, login):
    for name in ("repository_edit", "env_upload"):
        assert login(cast.fiona).get(url(name, cast.nova)).status_code == 404
        assert login(cast.charlie).post(url(name, cast.nova), {"repo_url": "https://x.example/r.git"}).status_code \
            == 404
        assert login(cast.bob).get(url(name, cast.nova)).status_code == 200


def test_verify_now_is_limited_per_client_per_minute(cast, login, world_state, monkeypatch):
    from django.core.cache import cache

    from apps.clients import views

    cache.clear()
    monkeypatch.setattr(views, "VERIFY_PER_MINUTE", 2)
    client = world_client(cast, "owned-txt.lrtest", "not-the-right-token-0123456789")
    web = login(cast.bob)
    for _ in range(2):
        web.post(url("verify_ownership", client))
    checked = Client.objects.get(pk=client.pk).ownership_checked_at
    page = web.post(url("verify_ownership", client), follow=True).content.decode()
    assert "wait a minute" in page
    assert Client.objects.get(pk=client.pk).ownership_checked_at == checked  # nothing fetched the third time
    cache.clear()
