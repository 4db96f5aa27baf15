"""Faults around handover-pack PDFs (docs/operations.md, "Faults we tested"; the web/database/broker faults are in
tests/test_faults.py):

c) A reports worker SIGKILLed with a half-written PDF on disk: nothing half-written is served; the sweep regenerates.
d) The disk fills while a PDF is written: the pack says why it failed, and no partial file is left.
"""

import errno
import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest
from django.urls import reverse

from apps.reports import documents
from apps.reports.models import HandoverPack
from tests.worker import WorkerProcess, wait_for

ROOT = Path(__file__).resolve().parent.parent.parent.parent


# --- c) a worker killed mid-PDF ------------------------------------------------------------------------------------

def _media_files(root):
    return sorted(p for p in Path(root).rglob("*") if p.is_file())


@pytest.mark.worker
def test_worker_killed_mid_pdf_serves_nothing_half_written_and_the_pack_is_regenerated(
        handover_world, transactional_db, settings, tmp_path, login):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    scratch = tmp_path / "worker-tmp"
    scratch.mkdir()
    marker = tmp_path / "halfway"
    media = {"MEDIA_ROOT": settings.MEDIA_ROOT}
    sprint = handover_world.orbit_sprint
    client = login(handover_world.alice)

    faulty = WorkerProcess(queues="reports", concurrency=1, launcher=ROOT / "tests" / "fault_worker.py",
                           extra_env={**media, "TMPDIR": str(scratch), "LAUNCHREADY_FAULT_MARKER": str(marker)})
    faulty.start()
    try:
        assert client.post(reverse("reports:generate", kwargs={"sprint_id": sprint.pk})).status_code == 302
        wait_for(marker.exists, timeout=90, message=f"the worker to write half a PDF\n{faulty.log()}")
    finally:
        faulty.kill_all()
    pack = HandoverPack.objects.get(sprint=sprint)
    half_written = list(scratch.glob("*.pdf"))
    assert half_written and 0 < half_written[0].stat().st_size < int(marker.read_text())  # really mid-PDF
    assert not pack.pdf and not pack.is_ready
    assert _media_files(settings.MEDIA_ROOT) == []  # nothing half-written was stored where downloads come from
    assert client.get(reverse("reports:download", kwargs={"handoverpack_id": pack.pk})).status_code == 404
    page = client.get(reverse("reports:handover", kwargs={"sprint_id": sprint.pk})).content.decode()
    assert "rendering…" in page and "Download PDF" not in page

    settings.PACK_STALLED_SECONDS = 1
    worker = WorkerProcess(queues="reports", concurrency=1, extra_env=media).start()
    try:
        time.sleep(1.1)
        assert documents.redispatch_stalled() == 1
        pack = wait_for(lambda: HandoverPack.objects.filter(pk=pack.pk, generated_at__isnull=False).first(),
                        timeout=90, message=f"the regenerated pack\n{worker.log()}")
    finally:
        worker.stop()
    assert pack.is_ready and pack.render_attempts == 1 and pack.failure == ""
    response = client.get(reverse("reports:download", kwargs={"handoverpack_id": pack.pk}))
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    assert hashlib.sha256(body).hexdigest() == pack.sha256 == response["X-Content-SHA256"]
    assert _media_files(settings.MEDIA_ROOT) == [Path(pack.pdf.path)]
    print(f"observed: killed with {half_written[0].stat().st_size} of {marker.read_text()} bytes written; "
          f"regenerated: {pack.pages} pages, {len(body)} bytes")


def test_a_render_that_never_finishes_is_retried_a_bounded_number_of_times_then_fails(
        handover_world, settings, monkeypatch):
    from django.utils import timezone

    queued = []
    monkeypatch.setattr(documents, "dispatch", lambda pk: queued.append(pk) or True)
    pack = HandoverPack.request_for(handover_world.orbit_sprint, handover_world.alice)
    later = timezone.now()
    for _ in range(settings.PACK_RENDER_ATTEMPTS):
        later += timezone.timedelta(seconds=settings.PACK_STALLED_SECONDS + 1)
        assert documents.redispatch_stalled(now=later) == 1
        assert documents.redispatch_stalled(now=later) == 0  # claimed: a second sweep does not queue it twice
    later += timezone.timedelta(seconds=settings.PACK_STALLED_SECONDS + 1)
    assert documents.redispatch_stalled(now=later) == 0
    pack.refresh_from_db()
    assert len(queued) == settings.PACK_RENDER_ATTEMPTS
    assert "did not finish" in pack.failure and pack.render_attempts == settings.PACK_RENDER_ATTEMPTS


# --- d) the disk fills while a PDF is written ----------------------------------------------------------------------

@pytest.fixture
def tiny_disk(tmp_path):
    """mount(size) -> a directory on a tmpfs of that size (root can mount), or None where mounting is not allowed
    (then the test injects ENOSPC at the same file-write boundary)."""
    mounted = []

    def mount(size):
        path = tmp_path / f"disk{len(mounted)}"
        path.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                                capture_output=True, timeout=10)
        if result.returncode != 0:
            return None
        mounted.append(path)
        return path

    yield mount
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=10)


def _enospc():
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_disk_full_while_rendering_the_pdf_records_a_clean_failure_and_leaves_no_file(
        handover_world, settings, tmp_path, tiny_disk, monkeypatch, login):
    import tempfile

    import weasyprint

    settings.MEDIA_ROOT = str(tmp_path / "media")
    scratch = tiny_disk("16k")  # a handover pack is tens of kB
    mounted = scratch is not None
    if scratch is None:  # no mount here: the write itself fails halfway, as on a full disk
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        original = weasyprint.Document.write_pdf

        def fill_up(self, target=None, *args, **kwargs):
            target.write(original(self, None, *args, **kwargs)[:4096])
            raise _enospc()

        monkeypatch.setattr(weasyprint.Document, "write_pdf", fill_up)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    sprint = handover_world.orbit_sprint
    pack = HandoverPack.request_for(sprint, handover_world.alice)

    with pytest.raises(OSError) as raised:
        documents.generate_pack(pack.pk)
    assert raised.value.errno == errno.ENOSPC
    pack.refresh_from_db()
    assert "disk is full" in pack.failure and not pack.pdf and not pack.is_ready
    assert list(scratch.iterdir()) == [] and _media_files(settings.MEDIA_ROOT) == []
    client = login(handover_world.alice)
    page = client.get(reverse("reports:handover", kwargs={"sprint_id": sprint.pk})).content.decode()
    assert "failed" in page and "the server&#x27;s disk is full" in page
    assert client.get(reverse("reports:download", kwargs={"handoverpack_id": pack.pk})).status_code == 404
    assert documents.redispatch_stalled() == 0  # a recorded failure waits for the consultant, not a loop
    print(f"observed ({'tmpfs' if mounted else 'injected ENOSPC'}): {pack.failure}")


def test_disk_full_while_storing_the_pdf_keeps_the_previous_file_and_leaves_no_partial(
        handover_world, settings, tmp_path, tiny_disk, monkeypatch, login):
    sprint = handover_world.orbit_sprint
    pack = HandoverPack.request_for(sprint, handover_world.alice)
    media = tiny_disk("4m")
    settings.MEDIA_ROOT = str(media or tmp_path / "media")
    assert documents.generate_pack(pack.pk)  # a good first version, on the disk that is about to fill up
    pack.refresh_from_db()
    first_name, first_sha = pack.pdf.name, pack.sha256
    size = Path(pack.pdf.path).stat().st_size
    if media is not None:  # leave less room than one more PDF needs
        free = os.statvfs(media).f_bavail * os.statvfs(media).f_frsize
        (media / "filler").write_bytes(b"\0" * max(0, free - size // 2))
    else:  # no mount here: the storage write fails halfway, as on a full disk
        from django.core.files import File

        class FullDisk(File):
            def chunks(self, chunk_size=None):
                yield self.file.read(size // 2)
                raise _enospc()

        monkeypatch.setattr("django.core.files.File", FullDisk)

    pack = HandoverPack.request_for(sprint, handover_world.alice)  # regenerate the draft
    with pytest.raises(OSError) as raised:
        documents.generate_pack(pack.pk)
    assert raised.value.errno == errno.ENOSPC
    pack.refresh_from_db()
    assert "Saving the PDF failed" in pack.failure and "disk is full" in pack.failure
    assert pack.pdf.name == first_name and pack.sha256 == first_sha  # the row still points at the complete file
    pdfs = [p for p in _media_files(settings.MEDIA_ROOT) if p.suffix == ".pdf"]
    assert pdfs == [Path(pack.pdf.path)], "a partial PDF was left behind"
    client = login(handover_world.alice)
    response = client.get(reverse("reports:download", kwargs={"handoverpack_id": pack.pk}))
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and hashlib.sha256(body).hexdigest() == first_sha
    page = client.get(reverse("reports:handover", kwargs={"sprint_id": sprint.pk})).content.decode()
    assert "disk is full" in page
    print(f"observed ({'tmpfs' if media else 'injected ENOSPC'}): {pack.failure}; previous file still served")


# --- e) renders that race or repeat ------------------------------------------------------------------------------

def test_an_issued_pack_is_ready_only_with_the_pdf_rendered_as_issued_and_is_never_rewritten(handover_world):
    from datetime import timedelta

    sprint, alice = handover_world.orbit_sprint, handover_world.alice
    pack = HandoverPack.request_for(sprint, alice)
    assert documents.generate_pack(pack.pk)
    pack.refresh_from_db()
    draft_sha = pack.sha256
    assert not documents.generate_pack(pack.pk)  # a redelivered or re-queued render of a current draft: nothing
    pack.refresh_from_db()
    assert pack.sha256 == draft_sha
    # The issue waited on the draft render's row lock: its issue time is earlier than the draft PDF's. Before,
    # is_ready compared those clocks and served the DRAFT-stamped PDF as the issued pack.
    HandoverPack.objects.filter(pk=pack.pk).update(state=HandoverPack.ISSUED, issued_by=alice,
                                                   issued_at=pack.generated_at - timedelta(seconds=1))
    pack.refresh_from_db()
    assert not pack.is_ready and pack.pdf_state == HandoverPack.DRAFT
    assert documents.generate_pack(pack.pk)  # the final render
    pack.refresh_from_db()
    assert pack.is_ready and pack.pdf_state == HandoverPack.ISSUED and pack.sha256 != draft_sha
    issued_sha, issued_name = pack.sha256, pack.pdf.name
    assert not documents.generate_pack(pack.pk)  # never rendered twice
    pack.refresh_from_db()
    assert (pack.sha256, pack.pdf.name) == (issued_sha, issued_name)


def test_the_previous_draft_file_is_removed_only_after_the_new_one_is_committed(
        handover_world, django_capture_on_commit_callbacks):
    sprint, alice = handover_world.orbit_sprint, handover_world.alice
    pack = HandoverPack.request_for(sprint, alice)
    assert documents.generate_pack(pack.pk)
    pack.refresh_from_db()
    old = Path(pack.pdf.path)
    pack = HandoverPack.request_for(sprint, alice)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert documents.generate_pack(pack.pk)
    assert old.exists()  # until the commit, a download of the committed row still finds its file
    for callback in callbacks:
        callback()
    assert not old.exists()
    pack.refresh_from_db()
    assert Path(pack.pdf.path).exists()


def test_an_issued_pack_whose_final_render_failed_is_retried_by_the_sweep(handover_world, settings, monkeypatch):
    from django.utils import timezone

    queued = []
    monkeypatch.setattr(documents, "dispatch", lambda pk: queued.append(pk) or True)
    pack = HandoverPack.request_for(handover_world.orbit_sprint, handover_world.alice)
    assert pack.issue(handover_world.alice, [], "")
    HandoverPack.objects.filter(pk=pack.pk).update(failure="Rendering failed: the font server hiccuped")
    later = timezone.now() + timezone.timedelta(seconds=settings.PACK_STALLED_SECONDS + 1)
    # Before: a recorded failure left an issued pack unrendered for good ("Regenerate" starts a new version).
    assert documents.redispatch_stalled(now=later) == 1 and queued == [pack.pk]
    assert documents.generate_pack(pack.pk)
    pack.refresh_from_db()
    assert pack.is_ready and pack.failure == ""
