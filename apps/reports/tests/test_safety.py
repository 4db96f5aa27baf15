"""The PDF renderer fetches nothing from the network; client text prints literally; logos are vetted."""

import io
import re
import socket
import subprocess

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.reports import documents
from apps.reports.models import HandoverPack
from apps.reports.render import FetchRefused, logo_url, render_pdf, safe_url_fetcher

pytestmark = pytest.mark.django_db

HOSTILE_NAME = "<img src=http://10.0.0.1/x>"


@pytest.fixture
def no_network(monkeypatch):
    """Any socket connection during rendering is recorded and refused."""
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def png_bytes(colour=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(buffer, "PNG")
    return buffer.getvalue()


def text_of(path):
    return subprocess.run(["pdftotext", "-raw", path, "-"], check=True, capture_output=True, text=True).stdout


def test_a_hostile_client_name_fetches_nothing_and_prints_literally(handover_world, no_network):
    orbit = handover_world.orbit
    orbit.name = HOSTILE_NAME
    orbit.save(update_fields=["name"])
    handover_world.acme.footer_text = '<link rel="stylesheet" href="http://10.0.0.1/s.css">'
    handover_world.acme.save(update_fields=["footer_text"])
    pack = HandoverPack.request_for(handover_world.orbit_sprint, handover_world.alice)
    fetcher = safe_url_fetcher()
    rendered = render_pdf(documents.handover_html(pack), url_fetcher=fetcher)
    text = text_of(rendered.path)
    assert HOSTILE_NAME in text
    assert '<link rel="stylesheet" href="http://10.0.0.1/s.css">' in text
    assert fetcher.fetched == ["lr-static:reports/pdf.css"]
    assert not fetcher.refused
    assert not no_network


def test_markup_that_bypassed_escaping_still_fetches_nothing(no_network):
    html = ('<html><head><link rel="stylesheet" href="http://10.0.0.1/a.css">'
            '<link rel="stylesheet" href="file:///etc/passwd"></head><body>'
            '<img src="http://10.0.0.1/x"><img src="https://example.com/y.png">'
            '<img src="lr-media:../../etc/passwd"><img src="lr-media:handover/secret.pdf">'
            '<img src="lr-static:../../launchready/settings.py"><p>still renders</p></body></html>')
    fetcher = safe_url_fetcher()
    rendered = render_pdf(html, url_fetcher=fetcher)
    assert "still renders" in text_of(rendered.path)
    assert fetcher.fetched == []
    assert len(fetcher.refused) == 7
    assert not no_network


@pytest.mark.parametrize("url", [
    "http://10.0.0.1/x", "https://example.com/", "file:///etc/passwd", "ftp://x/y", "data:text/css,body{}",
    "lr-media:../secrets.png", "lr-media:handover/x.pdf", "lr-media:logos/evil.svg", "lr-static:../../manage.py",
    "lr-static:reports/../../../etc/passwd.css", "lr-static:nope/missing.css",
])
def test_the_fetcher_refuses_everything_but_our_files(url):
    with pytest.raises(FetchRefused):
        safe_url_fetcher().fetch(url)


def test_the_fetcher_serves_our_css_and_png_logos(cast):
    fetcher = safe_url_fetcher()
    assert b"@page" in fetcher.fetch("lr-static:reports/pdf.css").read()
    cast.acme.logo.save("brand.png", ContentFile(png_bytes()), save=True)
    assert logo_url(cast.acme) == "lr-media:" + cast.acme.logo.name
    response = fetcher.fetch(logo_url(cast.acme))
    assert response.read().startswith(b"\x89PNG") and response.content_type == "image/png"


def test_the_logo_is_printed_on_the_cover(handover_world):
    handover_world.acme.logo.save("brand.png", ContentFile(png_bytes()), save=True)
    pack = HandoverPack.request_for(handover_world.orbit_sprint, handover_world.alice)
    fetcher = safe_url_fetcher()
    render_pdf(documents.handover_html(pack), url_fetcher=fetcher)
    assert "lr-media:" + handover_world.acme.logo.name in fetcher.fetched


def test_svg_or_disguised_or_oversized_logos_are_not_served(cast, settings):
    cast.acme.logo.save("evil.svg", ContentFile(b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
                        save=True)
    assert logo_url(cast.acme) == ""  # never even referenced
    cast.acme.logo.save("disguised.png", ContentFile(b'<svg><image href="http://10.0.0.1/x"/></svg>'), save=True)
    with pytest.raises(FetchRefused):
        safe_url_fetcher().fetch(logo_url(cast.acme))
    settings.LOGO_MAX_BYTES = 100
    cast.acme.logo.save("big.png", ContentFile(png_bytes() + b"\0" * 200), save=True)
    with pytest.raises(FetchRefused):
        safe_url_fetcher().fetch(logo_url(cast.acme))


@pytest.mark.parametrize("name, content", [
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("logo.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
])
def test_the_workspace_form_refuses_svg_logos(cast, name, content):
    from apps.tenants.forms import WorkspaceSettingsForm

    form = WorkspaceSettingsForm(
        data={"name": "Acme", "primary_colour": "#112233", "accent_colour": "#445566", "footer_text": ""},
        files={"logo": SimpleUploadedFile(name, content, content_type="image/svg+xml")}, instance=cast.acme)
    assert not form.is_valid()
    assert re.search(r"SVG|image", " ".join(form.errors["logo"]))
