"""Scoring, declaratively: every weight, default severity and the go/no-go rule in one place (SPEC.md section 3).

score = 100 - sum over check ids of (severity weight x stage weight x status factor), floored at 0; a failing
blocker caps the score at BLOCKER_CAP. Each check id counts once (its worst status), so declaring more hostnames
does not sink a score; how many targets a problem touches ranks it in the risk list instead.
"""

from __future__ import annotations

from .findings import Finding

SEVERITY_WEIGHT = {"blocker": 30, "high": 12, "medium": 5, "low": 2, "info": 0}

STAGES = {1: "audit", 2: "deploy", 3: "edge", 4: "perf", 5: "email", 6: "observe", 7: "handover"}
# Earlier stages gate the launch harder: a broken deploy matters more than a missing TLS-RPT record.
STAGE_WEIGHT = {1: 1.0, 2: 1.0, 3: 0.9, 4: 0.8, 5: 0.7, 6: 0.8, 7: 0.6}
STAGE_OF_PREFIX = {"audit": 1, "deploy": 2, "dns": 3, "tls": 3, "http": 3, "edge": 3, "perf": 4, "ai": 4,
                   "email": 5, "obs": 6, "handover": 7}

# A warning costs part of a failure; `error` (could not decide) costs a little so a scan that saw nothing
# cannot score 100.
STATUS_FACTOR = {"fail": 1.0, "warn": 0.4, "error": 0.25, "pass": 0.0, "skipped": 0.0}
STATUS_RANK = {"fail": 0, "error": 1, "warn": 2, "pass": 3, "skipped": 4}
BLOCKER_CAP = 59
GRADES = ((90, "A"), (80, "B"), (70, "C"), (60, "D"), (0, "F"))

# Default severity of each check's failure (the SPEC catalogue). A check may raise or lower it for one finding.
CHECK_SEVERITY = {
    "audit.resolves": "blocker",
    "audit.localhost_refs": "high",
    "audit.env_parity": "medium",
    "audit.slow_routes": "medium",
    "deploy.env_complete": "blocker",
    "deploy.secrets_in_repo": "blocker",
    "deploy.smoke": "blocker",
    "dns.records": "medium",
    "dns.dangling": "high",
    "tls.certificate": "blocker",
    "tls.protocols": "medium",
    "http.https_redirect": "high",
    "http.canonical": "medium",
    "http.hsts": "medium",
    "http.security_headers": "medium",
    "http.mixed_content": "high",
    "edge.cdn": "low",
    "edge.caching": "medium",
    "edge.reachable": "high",
    "perf.latency": "high",
    "perf.chat_stream": "high",
    "ai.prompt_leak": "high",
    "ai.jailbreak": "high",
    "ai.tool_misuse": "blocker",
    "email.mx": "high",
    "email.spf": "high",
    "email.dkim": "high",
    "email.dmarc": "medium",
    "email.tls_rpt": "info",
    "email.mta_sts": "info",
    "email.delivery": "high",
    "obs.monitors": "high",
    "obs.health": "medium",
    "handover.complete": "high",
}
KNOWN_CHECK_IDS = tuple(CHECK_SEVERITY)


def stage_of(check_id: str) -> int:
    return STAGE_OF_PREFIX[check_id.split(".", 1)[0]]


def default_severity(check_id: str) -> str:
    return CHECK_SEVERITY.get(check_id, "medium")


def grade_for(score: int) -> str:
    return next(letter for floor, letter in GRADES if score >= floor)


def penalty(finding: Finding) -> float:
    return (SEVERITY_WEIGHT[finding.severity] * STAGE_WEIGHT[stage_of(finding.check)]
            * STATUS_FACTOR[finding.status])


def score(findings: list[Finding]) -> int:
    worst: dict[str, float] = {}
    for f in findings:
        worst[f.check] = max(worst.get(f.check, 0.0), penalty(f))
    value = max(0, round(100 - sum(worst.values())))
    if any(blocks_launch(f) for f in findings):
        value = min(value, BLOCKER_CAP)
    return value


def blocks_launch(finding: Finding) -> bool:
    return finding.status == "fail" and finding.severity == "blocker"


def decision(findings: list[Finding]) -> str:
    return "no-go" if any(blocks_launch(f) for f in findings) else "go"


def risks(findings: list[Finding]) -> list[dict]:
    """Failing and warning findings grouped per (check, status), ranked by launch impact."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        if f.status in ("fail", "warn"):
            groups.setdefault((f.check, f.status, f.severity), []).append(f)
    rows = []
    for (check, status, severity), items in groups.items():
        rows.append({
            "check": check,
            "status": status,
            "severity": severity,
            "stage": stage_of(check),
            "targets": sorted({f.target for f in items}),
            "affected": len({f.target for f in items}),
            "summary": items[0].summary,
            "remediation": items[0].remediation,
        })
    rows.sort(key=lambda r: (-SEVERITY_WEIGHT[r["severity"]] * (1.0 if r["status"] == "fail" else 0.4),
                             -STAGE_WEIGHT[r["stage"]], -r["affected"], r["check"]))
    return rows


def worst_first(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (STATUS_RANK[f.status], -SEVERITY_WEIGHT[f.severity], f.check, f.target))
