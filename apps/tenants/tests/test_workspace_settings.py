import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from .conftest import MALFORMED


def settings_url(workspace):
    return reverse("tenants:workspace_settings", kwargs={"workspace_id": workspace.pk})


def image_bytes(fmt, size=(40, 20)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "#1d4ed8").save(buffer, fmt)
    return buffer.getvalue()


def form_data(**overrides):
    return {"name": "Acme Advisory", "primary_colour": "#112233", "accent_colour": "#AABBCC",
            "footer_text": "Acme — launch partners", **overrides}


@pytest.mark.django_db
def test_it_checks_ownership(cast, client):
    url = settings_url(cast.acme)
    for outsider in (cast.bob, cast.charlie, cast.fiona):
        client.force_login(outsider)
        assert client.get(url).status_code == 404, outsider
        assert client.post(url, form_data(name="Hijacked")).status_code == 404, outsider
    client.logout()
    assert client.get(url).status_code == 404
    cast.acme.refresh_from_db()
    assert cast.acme.name == "Acme Advisory"


@pytest.mark.django_db
def test_owner_saves_name_colours_and_footer(cast, login):
    client = login(cast.alice)
    assert client.get(settings_url(cast.acme)).status_code == 200
    response = client.post(settings_url(cast.acme), form_data(name="Acme Launch"))
    assert response.status_code == 302 and response.url == settings_url(cast.acme)
    cast.acme.refresh_from_db()
    assert (cast.acme.name, cast.acme.primary_colour, cast.acme.accent_colour) == ("Acme Launch", "#112233", "#aabbcc")
    assert cast.acme.footer_text == "Acme — launch partners"
    assert cast.acme.slug == "acme"  # the slug stays put when the name changes


@pytest.mark.django_db
@pytest.mark.parametrize("fmt, extension", [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_owner_uploads_a_png_jpeg_or_webp_logo(cast, login, fmt, extension):
    upload = SimpleUploadedFile("My Logo.bin", image_bytes(fmt), content_type="application/octet-stream")
    response = login(cast.alice).post(settings_url(cast.acme), form_data(logo=upload))
    assert response.status_code == 302
    cast.acme.refresh_from_db()
    # The stored name comes from what Pillow saw, not from the upload's name.
    assert cast.acme.logo.name.startswith("logos/") and cast.acme.logo.name.endswith("." + extension)
    assert cast.acme.logo.storage.exists(cast.acme.logo.name)


@pytest.mark.django_db
def test_replacing_and_clearing_the_logo_removes_the_old_file(cast, login):
    client = login(cast.alice)
    client.post(settings_url(cast.acme), form_data(logo=SimpleUploadedFile("a.png", image_bytes("PNG"))))
    cast.acme.refresh_from_db()
    first = cast.acme.logo.name
    client.post(settings_url(cast.acme), form_data(logo=SimpleUploadedFile("b.jpg", image_bytes("JPEG"))))
    cast.acme.refresh_from_db()
    storage = cast.acme.logo.storage
    assert cast.acme.logo.name != first and not storage.exists(first)
    second = cast.acme.logo.name
    client.post(settings_url(cast.acme), form_data(**{"logo-clear": "on"}))
    cast.acme.refresh_from_db()
    assert not cast.acme.logo and not storage.exists(second)


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.django_db
@pytest.mark.parametrize("name, content, message", [
    ("logo.svg", SVG, "SVG logos are not supported yet"),
    ("logo.png", SVG, "SVG logos are not supported yet"),            # SVG in disguise
    ("logo.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, "not a PNG, JPEG or WebP image we can read"),
    ("logo.png", b"just some text", "not a PNG, JPEG or WebP image we can read"),
    ("logo.gif", None, "Upload a PNG, JPEG or WebP image (this one is GIF)"),
])
def test_logo_refuses_svg_other_formats_and_broken_files(cast, login, name, content, message):
    content = content if content is not None else image_bytes("GIF")
    response = login(cast.alice).post(settings_url(cast.acme), form_data(logo=SimpleUploadedFile(name, content)))
    assert response.status_code == 200
    assert message in response.context["form"].errors["logo"][0]
    cast.acme.refresh_from_db()
    assert not cast.acme.logo


@pytest.mark.django_db
def test_logo_refuses_files_over_the_size_limit(cast, login, settings):
    settings.LOGO_MAX_BYTES = 1000
    big = image_bytes("PNG", size=(400, 400))
    assert len(big) > 1000
    response = login(cast.alice).post(settings_url(cast.acme), form_data(logo=SimpleUploadedFile("big.png", big)))
    assert "the limit is" in response.context["form"].errors["logo"][0]


@pytest.mark.django_db
def test_logo_refuses_huge_dimensions(cast, login):
    huge = image_bytes("PNG", size=(5000, 10))
    response = login(cast.alice).post(settings_url(cast.acme), form_data(logo=SimpleUploadedFile("wide.png", huge)))
    assert "pixels" in response.context["form"].errors["logo"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("colour", ["blue", "#12345", "#1234567", "#gggggg", "123456", "#12 345", ""])
def test_colours_must_be_hex(cast, login, colour):
    response = login(cast.alice).post(settings_url(cast.acme), form_data(primary_colour=colour,
                                                                         accent_colour=colour))
    errors = response.context["form"].errors
    assert "primary_colour" in errors and "accent_colour" in errors


@pytest.mark.django_db
@pytest.mark.parametrize("label", MALFORMED)
def test_settings_refuse_malformed_values(cast, login, label):
    value = MALFORMED[label]
    data = {"name": value, "primary_colour": value, "accent_colour": value, "footer_text": value}
    response = login(cast.alice).post(settings_url(cast.acme), data)
    assert response.status_code == 200
    assert {"primary_colour", "accent_colour"} <= set(response.context["form"].errors)
    cast.acme.refresh_from_db()
    assert cast.acme.name == "Acme Advisory"


@pytest.mark.django_db
def test_overlong_name_and_footer_are_field_errors(cast, login):
    response = login(cast.alice).post(settings_url(cast.acme), form_data(name="n" * 121, footer_text="f" * 201))
    assert {"name", "footer_text"} <= set(response.context["form"].errors)
