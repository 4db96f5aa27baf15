"""Monitoring's part of every finished scan, through the pipeline's signals (the engine stays plain, the pipeline
imports nothing of monitoring):

- `contribute_checks` (scan_checks_wanted, sent by the task running the scan's domain-wide parts): obs.monitors /
  obs.health (findings.py) need monitoring's data, so monitoring computes them (obs.health's request runs with the
  part's checks, within its connection slot) and the pipeline stores and scores them with the rest;
  `contribute_findings` (scan_findings_wanted, sent before scoring) supplies them at finalize if that task did not;
- `on_scan_finalized` (scan_finalized): notices (certificate expiring, readiness regression) to the alert channels.

Partial scans (`only`: deploy smoke tests, single-family rescans) are not a readiness verdict and are left alone.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

OBS_CHECKS = ("obs.monitors", "obs.health")


def is_full_client_scan(scan) -> bool:
    return scan.client_id is not None and not scan.options.get("only")


def contribute_findings(sender, scan, **kwargs) -> list:
    if not is_full_client_scan(scan) or scan.findings.filter(check_id__in=OBS_CHECKS).exists():
        return []
    from .findings import obs_health, obs_monitors

    return [obs_monitors(scan.client), obs_health(scan.client)]


def contribute_checks(sender, scan, **kwargs) -> list:
    """The same findings, computed while the scan's domain-wide parts run (scan_checks_wanted): obs.monitors from
    the database now, obs.health on the task's ScanNet."""
    if not is_full_client_scan(scan):
        return []
    from .findings import obs_health_check, obs_monitors

    monitors, health = obs_monitors(scan.client), obs_health_check(scan.client)

    async def checks(net):
        return [monitors, await health(net)]

    return [checks]


def on_scan_finalized(sender, scan, **kwargs):
    if not is_full_client_scan(scan) or scan.state != scan.DONE:
        return  # a failed scan measured nothing to give notice of
    try:
        from .notices import alert_on_scan

        alert_on_scan(scan)
    except Exception:  # noqa: BLE001 - a monitoring fault must not undo a finished scan
        log.exception("could not queue the scan notices of scan %s", scan.pk)
