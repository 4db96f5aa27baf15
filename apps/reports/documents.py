"""Build the PDFs: gather content, render HTML through the safe fetcher, attach the result."""

import logging
import os

from django.db import transaction

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
    if pack is None or (pack.is_issued and pack.is_ready):
        return False
    try:
        rendered = render_pdf(handover_html(pack))
    except Exception as exc:
        HandoverPack.objects.filter(pk=pack.pk).update(failure=f"Rendering failed: {exc}"[:500])
        raise
    try:
        with transaction.atomic():
            # Re-read under the transaction: a draft may have been issued while we rendered; its final render
            # then comes from the issue's own task, and this (draft-stamped) file is discarded.
            current = HandoverPack.objects.select_for_update().get(pk=pack.pk)
            if current.state != pack.state:
                return False
            pack.store_pdf(rendered.path, rendered.pages)
    finally:
        os.unlink(rendered.path)
    log.info("handover pack %s %s rendered: %d pages in %.2f s", pack.pk, pack.label, rendered.pages,
             rendered.seconds)
    return True


def readiness_pdf(scan, workspace=None) -> Rendered:
    """The readiness report of one scan, as a temporary file the caller deletes."""
    return render_pdf(readiness_html(scan, workspace))
