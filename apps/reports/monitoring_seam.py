"""The one place the handover pack learns about monitoring — without importing the monitoring app's models.

Contract: if `apps.monitoring.handover` exists and defines `handover_summary(client) -> dict | None`, the pack uses
its answer:

    {"monitors": [{"name": str, "url": str, "interval": str, "owner": str}],
     "channels": [{"kind": str, "target": str, "owner": str}],
     "status_page": str,            # a URL, or ""
     "setup_url": str}              # where a consultant configures monitoring, or ""

Anything else (module missing, no data, an error) reads as "not configured"; the pack still renders.
"""

import importlib
import logging

log = logging.getLogger(__name__)


def monitoring_summary(client):
    try:
        module = importlib.import_module("apps.monitoring.handover")
    except ModuleNotFoundError:
        return None
    provider = getattr(module, "handover_summary", None)
    if provider is None:
        return None
    try:
        summary = provider(client)
    except Exception:  # monitoring trouble must not stop a handover pack from rendering
        log.exception("monitoring summary failed for client %s", client.pk)
        return None
    if not isinstance(summary, dict) or not (summary.get("monitors") or summary.get("channels")):
        return None
    return {
        "monitors": [m for m in summary.get("monitors") or [] if isinstance(m, dict)],
        "channels": [c for c in summary.get("channels") or [] if isinstance(c, dict)],
        "status_page": str(summary.get("status_page") or ""),
        "setup_url": str(summary.get("setup_url") or ""),
    }
