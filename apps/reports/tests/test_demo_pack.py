"""The demo loader (with the test world running) issues a handover pack for the handed-over sprint."""

import subprocess
import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.reports.models import HandoverPack


@pytest.fixture
def world_state(testworld, settings, tmp_path):
    path = tmp_path / "testworld.json"
    testworld.write_state(path)
    settings.TESTWORLD_STATE_FILE = path


def test_demo_issues_a_downloadable_pack_for_orbit_tutor(db, world_state, client):
    from apps.sprints.models import Sprint

    started = time.perf_counter()
    call_command("demo")
    call_command("demo")  # idempotent: still one pack
    print(f"demo with scans took {time.perf_counter() - started:.1f} s")
    sprint = Sprint.objects.get(status=Sprint.HANDED_OVER)
    assert sprint.client.name == "Orbit Tutor"
    pack = HandoverPack.objects.get(sprint=sprint)
    assert pack.is_issued and pack.is_ready and pack.override_reason  # monitoring is not configured in the demo
    text = " ".join(subprocess.run(["pdftotext", "-raw", pack.pdf.path, "-"], check=True, capture_output=True,
                                   text=True).stdout.split())
    assert "Orbit Tutor" in text and "orbittutor.lrtest A" in text
    assert "fly releases; fly deploy --image <previous image>" in text
    assert "ANTHROPIC_API_KEY" in text

    from apps.tenants.models import User

    client.force_login(User.objects.get(email="owner@demo.launchready.test"))
    response = client.get(reverse("reports:download", kwargs={"handoverpack_id": pack.pk}))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
