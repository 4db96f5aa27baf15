"""The engine's data: what is scanned (Target), what a check reports (Finding), what a scan returns (ScanResult)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

STATUSES = ("pass", "warn", "fail", "error", "skipped")
SEVERITIES = ("blocker", "high", "medium", "low", "info")
ENDPOINT_KINDS = ("homepage", "login", "health", "chat", "checkout", "other")
HOST_ROLES = ("apex", "www", "app", "api", "docs", "auth", "status", "other")


@dataclass
class Finding:
    check: str
    target: str
    status: str
    severity: str
    summary: str
    evidence: dict = field(default_factory=dict)
    remediation: str = ""
    duration_ms: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Target:
    """What to scan: a domain, its hostnames (apex first) and declared endpoints.

    Built from CLI arguments now and from Client/Hostname/Endpoint rows later; plain data either way.
    """

    domain: str
    hostnames: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)  # hostname -> apex|www|app|api|docs|auth|status|other
    endpoints: dict[str, list[str]] = field(default_factory=dict)  # kind -> URLs
    dkim_selectors: list[str] = field(default_factory=list)
    spf_senders: list[str] = field(default_factory=list)
    options: dict = field(default_factory=dict)  # budgets and active-check settings

    def __post_init__(self):
        self.domain = self.domain.lower().rstrip(".")
        names = [self.domain] + [h.lower().rstrip(".") for h in self.hostnames]
        self.hostnames = list(dict.fromkeys(names))
        for host in self.hostnames:
            self.roles.setdefault(host, role_of(host, self.domain))

    @classmethod
    def build(cls, domain: str, hosts=(), endpoints=(), **kwargs) -> Target:
        """hosts: labels under the domain (`www`) or full names; endpoints: (kind, url) pairs."""
        domain = domain.lower().rstrip(".")
        full = [h if h.lower().rstrip(".").endswith("." + domain) or h.lower() == domain else f"{h}.{domain}"
                for h in hosts]
        by_kind: dict[str, list[str]] = {}
        for kind, url in endpoints:
            by_kind.setdefault(kind, []).append(url)
        return cls(domain=domain, hostnames=full, endpoints=by_kind, **kwargs)

    def hosts_with_role(self, *roles: str) -> list[str]:
        return [h for h in self.hostnames if self.roles.get(h) in roles]

    def endpoints_on(self, host: str, kinds=ENDPOINT_KINDS) -> list[tuple[str, str]]:
        """Endpoints served by host; the apex also takes those on hosts that are not declared (e.g. a vendor's)."""

        def owner(url):
            name = (urlsplit(url).hostname or "").lower()
            return name if name in self.hostnames else self.domain

        return [(kind, url) for kind in kinds for url in self.endpoints.get(kind, []) if owner(url) == host]

    def option(self, name: str, default):
        return self.options.get(name, default)


def role_of(host: str, domain: str) -> str:
    if host == domain:
        return "apex"
    first = host.split(".")[0]
    return first if first in HOST_ROLES else "other"


@dataclass
class ScanResult:
    domain: str
    score: int
    grade: str
    decision: str
    findings: list[Finding]
    risks: list[dict]
    duration_ms: int
    dns_queries: int = 0
    connections: int = 0

    def to_dict(self) -> dict:
        return {
            "domain": self.domain,
            "score": self.score,
            "grade": self.grade,
            "decision": self.decision,
            "findings": [f.to_dict() for f in self.findings],
            "risks": self.risks,
            "duration_ms": self.duration_ms,
        }
