"""Handover screens through the real views: preview, generate, issue (immutable), download, portal, 404s."""

import hashlib
import subprocess

import pytest
from django.urls import reverse

from apps.reports import documents, tasks
from apps.reports.forms import IssuePackForm
from apps.reports.models import HandoverPack

pytestmark = pytest.mark.django_db


@pytest.fixture
def orbit_founder(handover_world):
    from apps.tenants.models import ClientAccess, User

    user = User.objects.create_user("owen@orbit.test", "x-pass-123456", name="Owen Founder")
    ClientAccess.objects.create(user=user, client=handover_world.orbit)
    return user


def run_worker_task(pack):
    """What the `reports` worker does with the task the view queued."""
    tasks.generate_handover_pack.apply(args=[str(pack.pk)]).get()
    pack.refresh_from_db()
    return pack


def generate(client, sprint):
    response = client.post(reverse("reports:generate", kwargs={"sprint_id": sprint.pk}))
    assert response.status_code == 302
    return HandoverPack.objects.filter(sprint=sprint).order_by("-version").first()


def pdf_text(pack):
    out = subprocess.run(["pdftotext", "-raw", pack.pdf.path, "-"], check=True, capture_output=True,
                         text=True).stdout
    return " ".join(out.split())


def test_consultant_previews_the_pack_as_html(handover_world, login):
    client = login(handover_world.bob)
    response = client.get(reverse("reports:preview", kwargs={"sprint_id": handover_world.orbit_sprint.pk}))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("203.0.113.10", "Redeploy the previous image", "Postmark", "STRIPE_SECRET_KEY",
                 "Monitoring: not configured"):
        assert text in body


def test_generate_issue_and_regenerate_makes_a_new_version(handover_world, login, django_capture_on_commit_callbacks):
    sprint = handover_world.orbit_sprint
    client = login(handover_world.alice)
    page = reverse("reports:handover", kwargs={"sprint_id": sprint.pk})
    with django_capture_on_commit_callbacks() as queued:
        pack = generate(client, sprint)
    assert len(queued) == 1 and pack.version == 1 and pack.state == "draft" and not pack.pdf
    run_worker_task(pack)
    assert pack.is_ready and pack.pages >= 10 and "DRAFT v1" in pdf_text(pack)
    assert hashlib.sha256(open(pack.pdf.path, "rb").read()).hexdigest() == pack.sha256
    assert "Download PDF" in client.get(page).content.decode()

    # Regenerating a draft re-renders the same version.
    assert generate(client, sprint).pk == pack.pk

    # Gaps (no monitoring) block issuing without an override reason.
    issue_url = reverse("reports:issue", kwargs={"handoverpack_id": pack.pk})
    response = client.post(issue_url, {"override_reason": ""})
    assert response.status_code == 400 and "gap" in response.content.decode()
    pack.refresh_from_db()
    assert pack.state == "draft"

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(issue_url, {"override_reason": "Monitoring moves to Datadog on Monday."})
    assert response.status_code == 302 and len(queued) == 1
    pack.refresh_from_db()
    assert pack.is_issued and not pack.is_ready  # waiting for the final render
    run_worker_task(pack)
    assert pack.is_ready
    text = pdf_text(pack)
    assert "Monitoring moves to Datadog on Monday." in text and "DRAFT" not in text
    assert "Monitoring is not configured" in text  # the gap is printed with the override
    issued_sha, issued_file = pack.sha256, pack.pdf.name

    # Issued is immutable: a second issue, a re-run of the task and a regenerate all leave it alone.
    client.post(issue_url, {"override_reason": "again"})
    assert documents.generate_pack(pack.pk) is False
    v2 = generate(client, sprint)
    assert v2.version == 2 and v2.state == "draft"
    pack.refresh_from_db()
    assert (pack.sha256, pack.pdf.name, pack.override_reason) == (
        issued_sha, issued_file, "Monitoring moves to Datadog on Monday.")


def test_founder_downloads_issued_packs_only(handover_world, orbit_founder, login):
    sprint = handover_world.orbit_sprint
    draft = HandoverPack.request_for(sprint, handover_world.alice)
    documents.generate_pack(draft.pk)
    client = login(orbit_founder)
    download = reverse("reports:download", kwargs={"handoverpack_id": draft.pk})
    assert client.get(download).status_code == 404
    assert "has not issued" in client.get(reverse("reports:handover", kwargs={"sprint_id": sprint.pk})).content.decode()

    draft.issue(handover_world.alice, ["gap"], "agreed with the founder")
    documents.generate_pack(draft.pk)
    response = client.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert response["X-Content-SHA256"] == HandoverPack.objects.get(pk=draft.pk).sha256
    portal = client.get(reverse("sprints:portal")).content.decode()
    assert download in portal and "Download the handover pack v1" in portal


def test_it_checks_ownership(handover_world, orbit_founder, login):
    sprint = handover_world.orbit_sprint
    pack = HandoverPack.request_for(sprint, handover_world.alice)
    documents.generate_pack(pack.pk)
    urls = {
        "handover": reverse("reports:handover", kwargs={"sprint_id": sprint.pk}),
        "preview": reverse("reports:preview", kwargs={"sprint_id": sprint.pk}),
        "generate": reverse("reports:generate", kwargs={"sprint_id": sprint.pk}),
        "issue": reverse("reports:issue", kwargs={"handoverpack_id": pack.pk}),
        "download": reverse("reports:download", kwargs={"handoverpack_id": pack.pk}),
        "readiness": reverse("reports:readiness", kwargs={"scanrun_id": handover_world.orbit_scan.pk}),
    }
    client = login(handover_world.charlie)  # another workspace
    for name, url in urls.items():
        assert client.get(url).status_code in (404, 405), name
        assert client.post(url, {"override_reason": "x"}).status_code == 404, name
    client = login(handover_world.fiona)  # founder of another client of the same workspace
    for name, url in urls.items():
        assert client.post(url, {"override_reason": "x"}).status_code == 404, name
    client = login(orbit_founder)  # the client's own founder: no consultant actions, no drafts
    for name in ("preview", "generate", "issue", "download"):
        assert client.post(urls[name], {"override_reason": "x"}).status_code == 404, name
    assert client.get(urls["handover"]).status_code == 200
    assert HandoverPack.objects.get(pk=pack.pk).state == "draft"
    assert HandoverPack.objects.filter(sprint=sprint).count() == 1


def test_readiness_report_downloads_as_pdf(handover_world, login):
    client = login(handover_world.bob)
    response = client.get(reverse("reports:readiness", kwargs={"scanrun_id": handover_world.orbit_scan.pk}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_readiness_pdfs_rendered_in_the_request_are_rate_limited_per_scan(handover_world, login, monkeypatch):
    from django.core.cache import cache

    from apps.reports import views

    cache.clear()
    monkeypatch.setattr(views, "PDF_RENDERS_PER_MINUTE", 1)
    url = reverse("reports:readiness", kwargs={"scanrun_id": handover_world.orbit_scan.pk})
    client = login(handover_world.bob)
    assert client.get(url).status_code == 200
    refused = client.get(url)  # a loop on the link: refused before any rendering
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    cache.clear()


@pytest.mark.parametrize("value", [
    "x" * 2001, "<script>alert(1)</script>" * 100, "\x00null byte", "ünïcödé 🚀 " * 300, "   \n\t ",
])
def test_issue_form_rejects_malformed_values(value):
    form = IssuePackForm(data={"override_reason": value}, gaps=["No owners."])
    assert not form.is_valid()
    assert form.errors["override_reason"]


def test_issue_form_accepts_html_as_plain_text_and_needs_no_reason_without_gaps():
    form = IssuePackForm(data={"override_reason": "<b>ok</b> ünï"}, gaps=["gap"])
    assert form.is_valid() and form.cleaned_data["override_reason"] == "<b>ok</b> ünï"
    assert IssuePackForm(data={}, gaps=[]).is_valid()


def test_malformed_posts_to_the_issue_view_are_field_errors(handover_world, login):
    pack = HandoverPack.request_for(handover_world.orbit_sprint, handover_world.alice)
    client = login(handover_world.alice)
    url = reverse("reports:issue", kwargs={"handoverpack_id": pack.pk})
    for value in ("x" * 5000, "\x00", ""):
        response = client.post(url, {"override_reason": value})
        assert response.status_code == 400
    assert HandoverPack.objects.get(pk=pack.pk).state == "draft"


def test_the_scan_page_links_its_readiness_report(handover_world, login):
    client = login(handover_world.bob)
    page = client.get(reverse("checks:detail", kwargs={"scanrun_id": handover_world.orbit_scan.pk}))
    assert reverse("reports:readiness", kwargs={"scanrun_id": handover_world.orbit_scan.pk}) in page.content.decode()


def test_the_sprint_page_links_the_handover_pack(handover_world, login):
    client = login(handover_world.bob)
    sprint = handover_world.orbit_sprint
    page = client.get(reverse("sprints:detail", kwargs={"sprint_id": sprint.pk}))
    assert reverse("reports:handover", kwargs={"sprint_id": sprint.pk}) in page.content.decode()
