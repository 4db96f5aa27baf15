"""Build the PDFs: gather content, render HTML through the safe fetcher, attach the result."""

import errno
import logging
import os
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .content import handover_context, readiness_context
from .render import Rendered, html_for, render_pdf

log = logging.getLogger(__name__)

DOCUMENT = "reports/pdf/document.html"


def handover_html(pack_or_sprint, **context_overrides) -> str:
    context = handover_context(pack_or_sprint)
    context.update(context_overrides)
    return html_for(DOCUMENT, {**context, "body": "reports/_handover_body.html"})


def readiness_html(scan, workspace=None) -> str:
    return html_for(DOCUMENT, {**readiness_context(scan, workspace=workspace), "body": "reports/_readiness_body.html"})


def generate_pack(pack_id) -> bool:
    """Render one pack and attach it. An issued pack is rendered exactly once; returns False when nothing to do."""
    from .models import HandoverPack

    pack = HandoverPack.objects.select_related("sprint__client__workspace", "issued_by").filter(pk=pack_id).first()
    if pack is None or pack.is_current:
        return False  # a render re-queued by the sweep, or redelivered, after the first one finished
    as_of = timezone.now()  # the data the render reads is as of now
    try:
        rendered = render_pdf(handover_html(pack))
    except Exception as exc:
        HandoverPack.objects.filter(pk=pack.pk).update(failure=failure_reason("Rendering failed", exc))
        raise
    try:
        with transaction.atomic():
            # Re-read under the transaction: a draft may have been issued while we rendered; its final render
            # then comes from the issue's own task, and this (draft-stamped) file is discarded.
            current = HandoverPack.objects.select_for_update().get(pk=pack.pk)
            if current.state != pack.state or (current.is_issued and current.is_ready):
                return False  # issued meanwhile, or another worker already stored the issued PDF: never rewrite it
            pack.store_pdf(rendered.path, rendered.pages, current.state, as_of=as_of)
    except OSError as exc:
        # Disk full, storage gone: store_pdf removed its partial file and the row still points at the previous one.
        HandoverPack.objects.filter(pk=pack.pk).update(failure=failure_reason("Saving the PDF failed", exc))
        raise
    finally:
        os.unlink(rendered.path)
    log.info("handover pack %s %s rendered: %d pages in %.2f s", pack.pk, pack.label, rendered.pages,
             rendered.seconds)
    return True


def failure_reason(what: str, exc: BaseException) -> str:
    """What the consultant reads on the pack: plain words for a full disk, the error otherwise (never a path)."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"{what}: the server's disk is full. Free some space (or ask your administrator), then regenerate."
    if isinstance(exc, OSError) and exc.strerror:
        return f"{what}: {exc.strerror}."[:500]
    return f"{what}: {exc}"[:500]


# Publishing gives up after about a second, so a request never hangs on a dead broker.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.5}


def dispatch(pack_id) -> bool:
    """Queue one pack's render; False when the broker is unreachable (the stalled-pack sweep queues it later)."""
    from . import tasks

    try:
        tasks.generate_handover_pack.apply_async((str(pack_id),), retry=True, retry_policy=PUBLISH_RETRY)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many types for "broker down"
        log.warning("could not queue handover pack %s: %s", pack_id, exc)
        return False
    return True


def stalled_packs(now=None):
    """Packs asked for more than PACK_STALLED_SECONDS ago that still have no current PDF and no recorded failure."""
    from .models import HandoverPack

    now = now or timezone.now()
    before = now - timedelta(seconds=settings.PACK_STALLED_SECONDS)
    issued_unrendered = Q(state=HandoverPack.ISSUED) & ~Q(pdf_state=HandoverPack.ISSUED)
    not_rendered = Q(generated_at=None) | Q(generated_at__lt=F("requested_at")) | issued_unrendered
    # A draft that failed waits for the consultant's "Regenerate"; an issued pack has no such button (it would
    # start a new version), so its final render is retried up to the attempt limit even after a failure.
    return HandoverPack.objects.filter(not_rendered, requested_at__lt=before).filter(
        Q(failure="") | issued_unrendered).filter(Q(issued_at=None) | Q(issued_at__lt=before))


def redispatch_stalled(now=None) -> int:
    """Queue again the renders that were lost (the broker was down when they were asked for, or the worker died
    mid-PDF: the filesystem broker has no redelivery, Redis redelivers only after its visibility timeout). Each
    pack is queued at most PACK_RENDER_ATTEMPTS times, then it says it failed. Returns how many were queued."""
    from .models import HandoverPack

    now = now or timezone.now()
    queued = 0
    for pack in stalled_packs(now).only("pk", "render_attempts", "requested_at", "failure"):
        if pack.render_attempts >= settings.PACK_RENDER_ATTEMPTS:
            HandoverPack.objects.filter(pk=pack.pk, failure="").update(
                failure=f"Rendering did not finish after {pack.render_attempts + 1} attempts. Regenerate to try "
                        f"again.")
            continue
        # Claim it (bump requested_at) so a second sweep does not queue it twice, then publish.
        claimed = HandoverPack.objects.filter(pk=pack.pk, requested_at=pack.requested_at).update(
            requested_at=now, render_attempts=F("render_attempts") + 1)
        if not claimed:
            continue
        if not dispatch(pack.pk):
            # Broker still down: give the attempt back and keep it due for the next tick.
            HandoverPack.objects.filter(pk=pack.pk).update(requested_at=pack.requested_at,
                                                           render_attempts=F("render_attempts") - 1)
            break
        queued += 1
    return queued


def readiness_pdf(scan, workspace=None) -> Rendered:
    """The readiness report of one scan, as a temporary file the caller deletes."""
    return render_pdf(readiness_html(scan, workspace))
