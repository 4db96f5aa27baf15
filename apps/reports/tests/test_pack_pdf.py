"""The handover pack PDF rendered from fixture data: its text, metadata, bookmarks, branding and secrecy."""

import io
import re
import subprocess

import pytest
from PIL import Image

from apps.reports import documents
from apps.reports.models import HandoverPack
from apps.reports.render import safe_url_fetcher

from .conftest import SECRET_VALUE

pytestmark = pytest.mark.django_db


def pdf_text(path_or_pack):
    path = path_or_pack.pdf.path if isinstance(path_or_pack, HandoverPack) else path_or_pack
    out = subprocess.run(["pdftotext", "-raw", path, "-"], check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", " ", out)


def has_row(text, row):
    """The row's cells appear in order; narrow table cells may wrap a long value, so spacing is ignored."""
    return re.sub(r"\s", "", row) in re.sub(r"\s", "", text)


def generated_pack(cast):
    pack = HandoverPack.request_for(cast.orbit_sprint, cast.alice)
    assert documents.generate_pack(pack.pk)
    pack.refresh_from_db()
    return pack


@pytest.fixture
def exposed_secret(handover_world):
    """Findings whose evidence holds a secret's value: the pack must never print it."""
    from apps.checks.models import Finding

    Finding.objects.filter(scan=handover_world.orbit_scan, check_id="deploy.secrets_in_repo").update(
        evidence={"rule": "stripe_live", "kind": "Stripe live secret key", "masked": SECRET_VALUE[:12] + "…",
                  "value": SECRET_VALUE}, summary="A Stripe live key is in the git history.")
    Finding.objects.create(scan=handover_world.orbit_scan, check_id="audit.env_parity", target="orbit.example",
                           status="fail", severity="medium", summary="Staging lacks a variable.",
                           evidence={"values": {"STRIPE_SECRET_KEY": SECRET_VALUE}})
    return handover_world


def test_pack_prints_the_exact_dns_records_with_ttl_and_proxy(handover_world):
    text = pdf_text(generated_pack(handover_world))
    assert has_row(text, "orbit.example A 203.0.113.10 300 no")
    assert has_row(text, "orbit.example MX 10 mx1.mail.example. 3600")
    assert has_row(text, 'orbit.example CAA 0 issue "letsencrypt.org" 86400')
    assert has_row(text, "www.orbit.example CNAME orbit-www.edge.example. 120 yes (Fastly)")
    assert has_row(text, "www.orbit.example A 198.51.100.7 60 yes (Fastly)")


def test_pack_prints_runbook_vendors_env_names_and_owners(handover_world):
    text = pdf_text(generated_pack(handover_world))
    assert has_row(text, "1 List releases and pick the previous image fly releases 20 Nov 2026")
    assert has_row(text, "2 Redeploy the previous image fly deploy --image registry/orbit:prev never")
    assert has_row(text, "2 fly deploy --strategy rolling fly deploy")
    assert has_row(text, "Fly.io Hosting Leo Park leo@orbit.example on Ana Ruiz")
    assert has_row(text, "Postmark Transactional email Ana Ruiz ops@orbit.example OFF Ana Ruiz")
    for name in ("STRIPE_SECRET_KEY", "DATABASE_URL", "PUBLIC_APP_URL"):
        assert name in text
    assert "Production" in text and "Fly.io secrets" in text
    assert has_row(text, "DNS and domains Leo Park leo@orbit.example")
    # Rotation plan: the exposed key's kind, never its text.
    assert has_row(text, "Stripe live secret key deploy.secrets_in_repo github.com/orbit/app")


def test_pack_never_prints_a_secret_value(exposed_secret):
    text = pdf_text(generated_pack(exposed_secret))
    assert "Stripe live secret key" in text
    squashed = re.sub(r"\s", "", text)  # a value wrapped across lines must not slip through
    assert SECRET_VALUE not in squashed
    assert "sk_live" not in squashed


def test_pack_has_sections_contents_page_numbers_metadata_and_bookmarks(handover_world):
    pack = generated_pack(handover_world)
    text = pdf_text(pack)
    for heading in ("Contents", "Executive summary", "Ranked risk list", "TLS certificates", "Email authentication",
                    "Performance", "Results per stage", "Monitoring", "Environment variables",
                    "Deploy and rollback", "Vendor accounts", "Secrets rotation plan", "Ownership matrix",
                    "Appendix: checklist evidence"):
        assert heading in text
    assert f"Page 2 of {pack.pages}" in text
    layout = subprocess.run(["pdftotext", "-layout", "-f", "2", "-l", "2", pack.pdf.path, "-"], check=True,
                            capture_output=True, text=True).stdout
    assert re.search(r"3\. DNS records ?\.+ ?5\b", layout), layout  # the contents carry page numbers
    assert "R11 Test CA 2027-01-27 60" in text  # TLS
    assert "p50 42 ms" in text or "42 ms 180 ms 420 ms" in text  # performance table / chart
    assert "Monitoring: not configured" in text  # the monitoring app has no data
    info = subprocess.run(["pdfinfo", pack.pdf.path], check=True, capture_output=True, text=True).stdout
    assert re.search(r"Title:\s+Orbit Chat — launch handover pack", info)
    assert re.search(r"Author:\s+Acme", info)
    from weasyprint import HTML

    document = HTML(string=documents.handover_html(pack), base_url="lr-static:",
                    url_fetcher=safe_url_fetcher()).render()
    labels = [node[0] for node in document.make_bookmark_tree()]
    assert "DNS records" in labels and "Vendor accounts" in labels
    assert pack.sha256 and len(pack.sha256) == 64


def test_page_one_is_branded_not_blank(handover_world):
    handover_world.acme.primary_colour = "#0f766e"
    handover_world.acme.save(update_fields=["primary_colour"])
    pack = generated_pack(handover_world)
    png = subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "30", "-png", pack.pdf.path],
                         check=True, capture_output=True).stdout
    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = list(image.getdata())
    brand = sum(1 for r, g, b in pixels if abs(r - 0x0F) < 12 and abs(g - 0x76) < 12 and abs(b - 0x6E) < 12)
    assert brand / len(pixels) > 0.5, "the cover is filled with the workspace's primary colour"
    assert len(set(pixels)) > 20, "the cover carries text and the decision badge, not one flat colour"


def test_readiness_report_is_short_and_branded(handover_world):
    rendered = documents.readiness_pdf(handover_world.orbit_scan)
    try:
        text = pdf_text(rendered.path)
    finally:
        import os

        os.unlink(rendered.path)
    assert "Launch readiness report" in text and "Acme Advisory" in text
    assert has_row(text, "orbit.example A 203.0.113.10 300 no")
    assert "Vendor accounts" not in text
    assert rendered.pages < 10
