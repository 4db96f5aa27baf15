"""A real `reports` worker renders the pack the generate button queued (no eager mode)."""

import pytest
from django.urls import reverse

from apps.reports.models import HandoverPack
from tests.worker import WorkerProcess, wait_for


@pytest.fixture
def reports_worker(transactional_db, settings):
    process = WorkerProcess(queues="reports", extra_env={"MEDIA_ROOT": str(settings.MEDIA_ROOT)}).start()
    yield process
    process.stop()


def test_the_reports_worker_renders_a_generated_pack(handover_world, reports_worker, login):
    client = login(handover_world.alice)
    sprint = handover_world.orbit_sprint
    response = client.post(reverse("reports:generate", kwargs={"sprint_id": sprint.pk}))
    assert response.status_code == 302
    pack = wait_for(lambda: HandoverPack.objects.filter(sprint=sprint, generated_at__isnull=False).first(),
                    timeout=60, message=f"the worker to render the pack\n{reports_worker.log()}")
    assert pack.is_ready and pack.pages >= 10 and len(pack.sha256) == 64
    with pack.pdf.open("rb") as fh:
        assert fh.read(5) == b"%PDF-"
    assert "generate_handover_pack" in reports_worker.log()
