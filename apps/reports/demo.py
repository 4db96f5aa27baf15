"""The demo loader's handover pack: an issued pack for the handed-over demo sprint, so a new user can download one."""

from .documents import generate_pack
from .handover import complete, latest_scan
from .models import HandoverPack

DEMO_OVERRIDE = ("Demo pack: monitoring is configured in the monitoring screens after handover; everything else "
                 "was complete when this version was issued.")


def issue_demo_pack(sprint, actor):
    """Issue (and render, in-process) v1 for `sprint` once it has a completed scan. Returns the pack or None."""
    if HandoverPack.objects.issued().filter(sprint=sprint).exists() or latest_scan(sprint) is None:
        return None
    pack = HandoverPack.request_for(sprint, actor)
    gaps = [gap.summary for gap in complete(sprint)]
    pack.issue(actor, gaps, DEMO_OVERRIDE if gaps else "")
    generate_pack(pack.pk)
    pack.refresh_from_db()
    return pack
