"""What goes into a handover pack or readiness report: plain data gathered from the product's rows.

The templates only lay this out; nothing here formats HTML, and no env-var value or secret is ever read
(the product never stores one; exposed-secret findings contribute their kind, never their masked text).
"""

from __future__ import annotations

import re
from collections import Counter

from django.utils import timezone

from apps.checks.engine import scoring
from apps.checks.engine.findings import Finding as EngineFinding
from apps.clients.models import ENVIRONMENTS

from .handover import complete, latest_scan
from .monitoring_seam import monitoring_summary
from .render import logo_url

HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
DEFAULT_BRAND = {"primary": "#1d4ed8", "accent": "#f59e0b"}
DNS_TYPE_ORDER = ["A", "AAAA", "CNAME", "NS", "MX", "TXT", "CAA"]
EXPOSURE_CHECKS = ("deploy.secrets_in_repo", "audit.env_parity", "audit.localhost_refs")


def branding(workspace) -> dict:
    """Colours that are safe to drop into a <style> block (only well-formed hex), logo URL and footer text."""
    primary, accent = workspace.primary_colour, workspace.accent_colour
    ok = HEX_COLOUR.fullmatch(primary or "") and HEX_COLOUR.fullmatch(accent or "")
    colours = {"primary": primary, "accent": accent} if ok else dict(DEFAULT_BRAND)
    return {**colours, "name": workspace.name, "logo": logo_url(workspace), "footer": workspace.footer_text}


def _engine(finding) -> EngineFinding:
    return EngineFinding(check=finding.check_id, target=finding.target, status=finding.status,
                         severity=finding.severity, summary=finding.summary, evidence=finding.evidence,
                         remediation=finding.remediation)


def findings_of(scan) -> list:
    return list(scan.findings.all()) if scan else []


def dns_rows(findings) -> list[dict]:
    """One row per DNS record seen by the scan: host, type, value, TTL (when recorded), proxied or not."""
    proxied = {}
    for f in findings:
        if f.check_id == "edge.cdn" and f.status in ("pass", "warn"):
            provider = (f.evidence or {}).get("provider")
            proxied[f.target] = f"yes ({provider})" if f.status == "pass" and provider else "no"
    rows = []
    for f in sorted((f for f in findings if f.check_id == "dns.records"), key=lambda f: (len(f.target), f.target)):
        records = (f.evidence or {}).get("records") or {}
        ttls = (f.evidence or {}).get("ttls") or {}
        order = DNS_TYPE_ORDER + sorted(set(records) - set(DNS_TYPE_ORDER))
        for rdtype in order:
            for value in records.get(rdtype) or []:
                rows.append({"name": f.target, "type": rdtype, "value": str(value), "ttl": ttls.get(rdtype),
                             "proxied": proxied.get(f.target, "unknown") if rdtype in ("A", "AAAA", "CNAME")
                             else "—"})
    return rows


def tls_rows(findings) -> list[dict]:
    rows = []
    for f in findings:
        if f.check_id != "tls.certificate":
            continue
        ev = f.evidence or {}
        rows.append({"host": f.target, "issuer": ev.get("issuer_cn") or ev.get("issuer") or "—",
                     "expires": (ev.get("not_after") or "")[:10] or "—", "days_left": ev.get("days_left"),
                     "names": ", ".join((ev.get("sans") or [])[:6]), "status": f.status, "summary": f.summary})
    return sorted(rows, key=lambda r: (len(r["host"]), r["host"]))


def email_rows(findings) -> list[dict]:
    rows = []
    for f in findings:
        if not f.check_id.startswith("email."):
            continue
        ev = f.evidence or {}
        record = ev.get("record") or ev.get("records") or ""
        if isinstance(record, list):
            record = " | ".join(str(r) for r in record)
        rows.append({"check": f.check_id, "target": f.target, "status": f.status, "record": str(record)[:600],
                     "summary": f.summary})
    return sorted(rows, key=lambda r: (r["check"], r["target"]))


def perf_rows(findings) -> list[dict]:
    rows = []
    for f in findings:
        ev = f.evidence or {}
        if f.check_id == "perf.latency" and ev.get("p95_ms") is not None:
            rows.append({"url": ev.get("url") or f.target, "p50": ev.get("p50_ms"), "p95": ev.get("p95_ms"),
                         "p99": ev.get("p99_ms"), "rate": ev.get("planned_rate"),
                         "error_rate": ev.get("error_rate"), "status": f.status})
    return rows


def latency_chart(rows, width=640, bar_h=14) -> str:
    """A horizontal bar chart (p50/p95/p99 per URL) as inline SVG. Only numbers and escaped labels go in."""
    from django.utils.html import escape

    if not rows:
        return ""
    top = max(max(r[k] or 0 for k in ("p50", "p95", "p99")) for r in rows) or 1
    label_w, gap = 220, 10
    scale = (width - label_w - 70) / top
    colours = {"p50": "#16a34a", "p95": "#f59e0b", "p99": "#dc2626"}
    parts, y = [], 20
    for r in rows:
        label = r["url"] if len(r["url"]) <= 34 else r["url"][:33] + "…"
        parts.append(f'<text x="0" y="{y + bar_h * 1.5 + 4}" font-size="10">{escape(label)}</text>')
        for i, key in enumerate(("p50", "p95", "p99")):
            value = float(r[key] or 0)
            by = y + i * bar_h
            parts.append(f'<rect x="{label_w}" y="{by}" width="{max(value * scale, 1):.1f}" height="{bar_h - 2}" '
                         f'fill="{colours[key]}"/>')
            parts.append(f'<text x="{label_w + value * scale + 4:.1f}" y="{by + bar_h - 4}" font-size="9">'
                         f'{key} {value:.0f} ms</text>')
        y += 3 * bar_h + gap
    height = y + 6
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="Latency per URL">' + "".join(parts) + "</svg>")


def env_by_environment(env_vars) -> list[dict]:
    sections = [{"environment": env, "vars": [v for v in env_vars if env in (v.environments or [])]}
                for env in ENVIRONMENTS]
    unplaced = [v for v in env_vars if not any(env in (v.environments or []) for env in ENVIRONMENTS)]
    if unplaced:
        sections.append({"environment": "not yet placed in an environment", "vars": unplaced})
    return sections


def rotation_plan(env_vars, findings) -> dict:
    """Secrets to rotate: every secret env var (with its due date) plus each kind of key the scan saw exposed."""
    exposed = []
    for f in findings:
        if f.check_id in EXPOSURE_CHECKS and f.status == "fail":
            ev = f.evidence or {}
            exposed.append({"check": f.check_id, "kind": str(ev.get("kind") or ev.get("rule") or "credential"),
                            "where": f.target})
    secrets = [v for v in env_vars if v.secret]
    return {"secrets": secrets, "exposed": exposed}


def stage_results(sprint, findings) -> list[dict]:
    by_stage = {}
    for f in findings:
        try:
            stage = scoring.stage_of(f.check_id)
        except KeyError:
            continue
        by_stage.setdefault(stage, Counter())[f.status] += 1
    stages = sprint.stages_with_items(sprint.items.all()) if sprint else []
    rows = []
    for stage in stages:
        counts = by_stage.get(stage.number, Counter())
        rows.append({"number": stage.number, "name": stage.name, "done": stage.done, "total": stage.total,
                     "percent": stage.percent, "pass": counts["pass"], "warn": counts["warn"],
                     "fail": counts["fail"], "error": counts["error"], "items": stage.items})
    return rows


def scan_summary(scan, findings) -> dict:
    engine = [_engine(f) for f in findings]
    statuses = Counter(f.status for f in findings)
    return {
        "scan": scan,
        "risks": scoring.risks(engine),
        "statuses": statuses,
        "blockers": [f for f in engine if scoring.blocks_launch(f)],
        "dns": dns_rows(findings),
        "tls": tls_rows(findings),
        "email": email_rows(findings),
        "perf": perf_rows(findings),
    }


def handover_context(pack_or_sprint, *, now=None) -> dict:
    """Everything the handover template shows, for a HandoverPack (or a Sprint, for the HTML preview)."""
    from .models import HandoverPack

    pack = pack_or_sprint if isinstance(pack_or_sprint, HandoverPack) else None
    sprint = pack.sprint if pack else pack_or_sprint
    client = sprint.client
    scan = latest_scan(sprint)
    findings = findings_of(scan)
    monitoring = monitoring_summary(client)
    env_vars = list(client.env_vars.all())
    steps = list(client.runbook_steps.all())
    summary = scan_summary(scan, findings)
    summary["perf_chart"] = latency_chart(summary["perf"])
    return {
        "title": f"{client.name} — launch handover pack",
        "kind": "handover",
        "domain": client.domain,
        "pack": pack,
        "sprint": sprint,
        "client": client,
        "brand": branding(client.workspace),
        "generated_at": now or timezone.now(),
        "decision": sprint.decision or (scan.decision if scan else ""),
        "gaps": complete(sprint, scan=scan, monitoring=monitoring),
        **summary,
        "stages": stage_results(sprint, findings),
        "monitoring": monitoring,
        "endpoints": list(client.endpoints.all()),
        "env_sections": env_by_environment(env_vars),
        "env_count": len(env_vars),
        "deploy_steps": [s for s in steps if s.kind == "deploy"],
        "rollback_steps": [s for s in steps if s.kind == "rollback"],
        "vendors": list(client.vendor_accounts.all()),
        "rotation": rotation_plan(env_vars, findings),
        "owners": list(client.owners.all()),
        "evidence_items": [i for i in sprint.items.all()
                           if i.evidence_text or i.evidence_link or i.override_reason or i.scan_summary],
    }


def readiness_context(scan, *, now=None, workspace=None) -> dict:
    """The shorter readiness report of one scan (also for self-serve scans without a client: then the workspace
    whose self-serve page sold it brands it, when given)."""
    findings = findings_of(scan)
    client = scan.client
    workspace = client.workspace if client else workspace
    summary = scan_summary(scan, findings)
    summary["perf_chart"] = latency_chart(summary["perf"])
    return {
        "title": f"{scan.domain} — launch readiness report",
        "kind": "readiness",
        "client": client,
        "domain": scan.domain,
        "brand": branding(workspace) if workspace else {**DEFAULT_BRAND, "name": "Launch Ready", "logo": "",
                                                        "footer": ""},
        "generated_at": now or timezone.now(),
        "decision": scan.decision,
        "stages": [],
        **summary,
    }
