"""Proof of domain ownership before active checks (SPEC.md section 3).

A domain is verified by a DNS TXT record `launchready-verify=<token>` at the domain, or by the file
`https://<domain>/.well-known/launchready-verify.txt` containing the token. Both go through ScanNet (the resolver
cache, address guard and fetch caps), so verification is exactly as safe as any other check.

The runner asks `authorise_active(target, net)` before any active check, in the same run: a verification from an
earlier run proves nothing about today (the record or file may be gone, the domain may have changed hands). Two
ways through: `Target.options["ownership_token"]` (re-verified now) or `Target.options["operator_vouches"]` — set
only by the scan CLI's `--active`, where the operator running the command takes responsibility.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from .findings import Finding, Target
from .net import NetError, ScanNet

TXT_PREFIX = "launchready-verify="
WELL_KNOWN_PATH = "/.well-known/launchready-verify.txt"
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")  # long enough that it cannot be guessed or match by chance
MAX_FILE_REDIRECTS = 3


@dataclass
class Ownership:
    domain: str
    verified: bool
    method: str | None  # dns_txt | well_known_file | operator | None
    reason: str  # one sentence, for the founder
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def new_token() -> str:
    """A fresh verification token (URL- and DNS-safe, 32 characters)."""
    return secrets.token_urlsafe(24)


def is_valid_token(token) -> bool:
    return isinstance(token, str) and bool(TOKEN_PATTERN.match(token))


def file_url(domain: str) -> str:
    return f"https://{domain}{WELL_KNOWN_PATH}"


def instructions(domain: str, token: str | None = None) -> str:
    value = f"{TXT_PREFIX}{token}" if token else f"{TXT_PREFIX}<your token>"
    shown = token or "<your token>"
    return (f'add a DNS TXT record "{value}" at {domain}, or publish a file at {file_url(domain)} '
            f"containing {shown}")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _txt_text(record: str) -> str:
    """A TXT record as dnspython prints it ('"part one" "part two"') joined into the string it stands for."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', record)
    return "".join(parts) if parts else record


async def _by_dns(domain: str, token: str, net: ScanNet) -> tuple[bool, str, dict]:
    try:
        answer = await net.lookup(domain, "TXT")
    except NetError as exc:
        return False, f"the TXT lookup failed ({exc.reason})", {"error": exc.kind}
    values = [_txt_text(r) for r in answer.records]
    ours = [v for v in values if v.startswith(TXT_PREFIX)]
    if any(_same(v[len(TXT_PREFIX):].strip(), token) for v in ours):
        return True, f"the TXT record {TXT_PREFIX}… at {domain} matches", {"records": len(values)}
    if ours:
        return False, f"the {TXT_PREFIX} TXT record at {domain} holds a different token", {"records": len(values)}
    return False, f"no {TXT_PREFIX} TXT record at {domain}", {"records": len(values), "rcode": answer.rcode}


def _stays_on_domain(url: str, domain: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    return parts.scheme == "https" and (host == domain or host.endswith("." + domain))


async def _by_file(domain: str, token: str, net: ScanNet) -> tuple[bool, str, dict]:
    url = file_url(domain)
    hops = []
    for _ in range(MAX_FILE_REDIRECTS + 1):
        try:
            resp = await net.fetch(url)
        except NetError as exc:
            return False, f"{url} could not be fetched ({exc.reason})", {"url": url, "error": exc.kind}
        hops.append({"url": url, "status": resp.status})
        nxt = resp.location
        if not nxt:
            break
        if not _stays_on_domain(nxt, domain):  # a file on someone else's host proves nothing about this domain
            return False, f"{url} redirects off {domain} (to {nxt})", {"hops": hops}
        url = nxt
    else:
        return False, f"{file_url(domain)} redirects too many times", {"hops": hops}
    if resp.status != 200:
        return False, f"{url} answered HTTP {resp.status}", {"hops": hops}
    lines = [ln.strip() for ln in resp.text.splitlines() if ln.strip()]
    if any(_same(ln.removeprefix(TXT_PREFIX).strip(), token) for ln in lines[:50]):
        return True, f"{url} contains the token", {"hops": hops}
    return False, f"{url} does not contain this token", {"hops": hops}


# The whole well-known-file check (up to MAX_FILE_REDIRECTS + 1 fetches): "Verify now" runs in a web request, and a
# site answering a byte every few seconds on each hop would otherwise hold a web worker for a minute.
FILE_CHECK_BUDGET_S = 12.0


async def _by_file_within_budget(domain: str, token: str, net: ScanNet) -> tuple[bool, str, dict]:
    try:
        return await asyncio.wait_for(_by_file(domain, token, net), FILE_CHECK_BUDGET_S)
    except TimeoutError:
        url = file_url(domain)
        return False, f"{url} did not answer within {FILE_CHECK_BUDGET_S:g} s", {"url": url, "error": "timeout"}


async def verify_ownership(domain: str, token: str, net: ScanNet) -> Ownership:
    """Verified when the TXT record or the well-known file carries `token`; otherwise says what was seen."""
    domain = domain.lower().rstrip(".")
    if not is_valid_token(token):
        return Ownership(domain, False, None, "No valid verification token was issued for this domain.")
    (dns_ok, dns_why, dns_ev), (file_ok, file_why, file_ev) = await asyncio.gather(
        _by_dns(domain, token, net), _by_file_within_budget(domain, token, net))
    evidence = {"dns_txt": {"ok": dns_ok, "reason": dns_why, **dns_ev},
                "well_known_file": {"ok": file_ok, "reason": file_why, **file_ev}}
    if dns_ok:
        return Ownership(domain, True, "dns_txt", f"Ownership verified: {dns_why}.", evidence)
    if file_ok:
        return Ownership(domain, True, "well_known_file", f"Ownership verified: {file_why}.", evidence)
    return Ownership(domain, False, None, f"Not verified: {dns_why}, and {file_why}.", evidence)


def verify_ownership_now(domain: str, token: str, profile) -> Ownership:
    """Synchronous entry point (e.g. a "verify" button's view or task): a fresh ScanNet, so fresh DNS."""
    return asyncio.run(verify_ownership(domain, token, ScanNet(profile)))


async def authorise_active(target: Target, net: ScanNet) -> Ownership:
    """May this run send active traffic to target.domain? Re-verified in this run; the result lands in options."""
    if target.options.get("operator_vouches") is True:
        result = Ownership(target.domain, True, "operator", "The operator running the scan CLI vouched (--active).")
    else:
        token = target.options.get("ownership_token")
        if token is None:
            result = Ownership(target.domain, False, None, "No ownership verification was requested for this run.")
        else:
            result = await verify_ownership(target.domain, token, net)
    target.options["ownership"] = result.to_dict()
    return result


def refused_finding(check_id: str, target: Target, ownership: Ownership) -> Finding:
    from .runner import make_finding  # runner imports this module

    token = target.options.get("ownership_token")
    how = instructions(target.domain, token if is_valid_token(token) else None)
    return make_finding(
        check_id, target.domain, "skipped",
        f"Not run: this check sends real traffic, so verify ownership of {target.domain} first — {how}.",
        {"refused": "ownership_not_verified", "ownership": ownership.to_dict(),
         "txt_record": f"{TXT_PREFIX}{token if is_valid_token(token) else '<token>'}",
         "file_url": file_url(target.domain)},
        f"Verify ownership: {how}. Then run the scan again.")
