"""Authentication of one received message: SPF check_host() (RFC 7208 s4), DKIM (dkimpy), DMARC alignment (RFC 7489).

Every DNS question goes through the engine's ScanNet, so the receiver answers from the same resolver path as the
scanner (the test world in tests) and a fresh ScanNet per message means no stale cache.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from email.utils import getaddresses

import dkim

from apps.checks.engine.email import (
    LOOKUP_LIMIT,
    MX_ADDRESS_LIMIT,
    VOID_LIMIT,
    SpfSyntaxError,
    Term,
    a_label,
    find_dmarc,
    lookup_txt,
    org_domain,
    parse_spf,
    parse_tag_list,
    spf_records,
)
from apps.checks.engine.net import NetError

RESULT_OF_QUALIFIER = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


class SpfAbort(Exception):
    def __init__(self, result: str, reason: str):
        super().__init__(reason)
        self.result = result
        self.reason = reason


@dataclass
class SpfContext:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    sender: str  # MAIL FROM (or postmaster@HELO when empty)
    helo: str
    lookups: int = 0
    voids: int = 0
    trail: list = field(default_factory=list)

    def count_lookup(self):
        self.lookups += 1
        if self.lookups > LOOKUP_LIMIT:
            raise SpfAbort("permerror", f"more than {LOOKUP_LIMIT} DNS lookups")

    def count_void(self):
        self.voids += 1
        if self.voids > VOID_LIMIT:
            raise SpfAbort("permerror", f"more than {VOID_LIMIT} void lookups")


_MACRO_EXPAND = re.compile(r"%\{([a-zA-Z])(\d*)(r?)([.\-+,/_=]*)\}|%%|%_|%-")


def expand_macros(spec: str, ctx: SpfContext, domain: str) -> str:
    """RFC 7208 section 7.3 macro expansion (for domain-specs; the exp-only letters are not needed here)."""
    local, _, sender_domain = ctx.sender.rpartition("@")

    def value(letter: str) -> str:
        letter = letter.lower()
        if letter == "s":
            return ctx.sender
        if letter == "l":
            return local or "postmaster"
        if letter == "o":
            return sender_domain
        if letter == "d":
            return domain
        if letter == "i":
            if ctx.ip.version == 4:
                return str(ctx.ip)
            return ".".join(ctx.ip.exploded.replace(":", ""))
        if letter == "v":
            return "in-addr" if ctx.ip.version == 4 else "ip6"
        if letter == "h":
            return ctx.helo
        if letter == "p":
            return "unknown"
        raise SpfAbort("permerror", f"macro %{{{letter}}} not allowed here")

    def replace(m: re.Match) -> str:
        text = m.group(0)
        if text == "%%":
            return "%"
        if text == "%_":
            return " "
        if text == "%-":
            return "%20"
        parts = re.split("[" + re.escape(m.group(4) or ".") + "]", value(m.group(1)))
        if m.group(3):
            parts.reverse()
        if m.group(2):
            keep = int(m.group(2))
            if keep == 0:
                raise SpfAbort("permerror", "macro transformer of 0 labels")
            parts = parts[-keep:]
        return ".".join(parts)

    expanded = _MACRO_EXPAND.sub(replace, spec)
    while len(expanded) > 253 and "." in expanded:  # RFC 7208 s7.3: drop left labels until it fits
        expanded = expanded.split(".", 1)[1]
    return expanded.rstrip(".")


async def check_host(net, ip: str, domain: str, sender: str, helo: str = "") -> tuple[str, str]:
    """(result, reason): none, neutral, pass, fail, softfail, temperror or permerror."""
    ctx = SpfContext(ipaddress.ip_address(ip), sender or f"postmaster@{helo}", helo)
    try:
        return await _check_host(net, ctx, a_label(domain), depth=0)
    except SpfAbort as exc:
        return exc.result, exc.reason


async def _check_host(net, ctx: SpfContext, domain: str, depth: int) -> tuple[str, str]:
    if depth > LOOKUP_LIMIT:
        raise SpfAbort("permerror", "include/redirect nesting too deep")
    try:
        texts, answer = await lookup_txt(net, domain)
    except NetError as exc:
        raise SpfAbort("temperror", exc.reason) from None
    records = spf_records(texts)
    if not records:
        return "none", f"{domain} has no SPF record"
    if len(records) > 1:
        raise SpfAbort("permerror", f"{domain} has {len(records)} SPF records")
    try:
        terms = parse_spf(records[0])
    except SpfSyntaxError as exc:
        raise SpfAbort("permerror", f"{domain}: {exc}") from None
    for term in terms:
        if term.kind != "mechanism":
            continue
        if term.name in ("include", "a", "mx", "ptr", "exists"):
            ctx.count_lookup()
        if await _matches(net, ctx, domain, term, depth):
            return RESULT_OF_QUALIFIER[term.qualifier], f"matched {term.text} in {domain}"
    redirect = next((t for t in terms if t.kind == "modifier" and t.name == "redirect"), None)
    if redirect is not None:
        ctx.count_lookup()
        target = expand_macros(redirect.domain, ctx, domain)
        result, reason = await _check_host(net, ctx, a_label(target), depth + 1)
        if result == "none":
            raise SpfAbort("permerror", f"redirect target {target} has no SPF record")
        return result, reason
    return "neutral", f"no mechanism of {domain} matched"


def _in(ip, addresses: list[str], term: Term) -> bool:
    for text in addresses:
        addr = ipaddress.ip_address(text)
        if addr.version != ip.version:
            continue
        length = term.cidr4 if addr.version == 4 else term.cidr6
        length = addr.max_prefixlen if length is None else length
        if ip in ipaddress.ip_network(f"{addr}/{length}", strict=False):
            return True
    return False


async def _addresses(net, ctx: SpfContext, name: str) -> list[str]:
    rdtype = "A" if ctx.ip.version == 4 else "AAAA"
    try:
        answer = await net.lookup(name, rdtype)
    except NetError as exc:
        raise SpfAbort("temperror", exc.reason) from None
    return answer.records


async def _matches(net, ctx: SpfContext, domain: str, term: Term, depth: int) -> bool:
    if term.name == "all":
        return True
    if term.name in ("ip4", "ip6"):
        return ctx.ip in ipaddress.ip_network(term.network)
    target = a_label(expand_macros(term.domain, ctx, domain)) if term.domain else domain
    if term.name == "include":
        result, _ = await _check_host(net, ctx, target, depth + 1)
        if result == "none":
            raise SpfAbort("permerror", f"include target {target} has no SPF record")
        if result in ("temperror", "permerror"):
            raise SpfAbort(result, f"include {target} gave {result}")
        return result == "pass"
    if term.name in ("a", "exists"):
        if term.name == "exists":
            try:
                found = (await net.lookup(target, "A")).records
            except NetError as exc:
                raise SpfAbort("temperror", exc.reason) from None
            if not found:
                ctx.count_void()
            return bool(found)
        found = await _addresses(net, ctx, target)
        if not found:
            ctx.count_void()
        return _in(ctx.ip, found, term)
    if term.name == "mx":
        try:
            answer = await net.lookup(target, "MX")
        except NetError as exc:
            raise SpfAbort("temperror", exc.reason) from None
        hosts = [r.partition(" ")[2].strip().rstrip(".") for r in answer.records]
        hosts = [h for h in hosts if h]
        if not hosts:
            ctx.count_void()
            return False
        if len(hosts) > MX_ADDRESS_LIMIT:
            raise SpfAbort("permerror", f"{target} has more than {MX_ADDRESS_LIMIT} MX hosts")
        for host in hosts:
            if _in(ctx.ip, await _addresses(net, ctx, host), term):
                return True
        return False
    # ptr: validated reverse names ending in the target domain (RFC 7208 s5.5)
    reverse = ctx.ip.reverse_pointer
    try:
        names = [n.rstrip(".").lower() for n in (await net.lookup(reverse, "PTR")).records][:MX_ADDRESS_LIMIT]
    except NetError:
        return False
    for name in names:
        if (name == target or name.endswith("." + target)) and str(ctx.ip) in await _addresses(net, ctx, name):
            return True
    return False


# --- DKIM -------------------------------------------------------------------------------------------------------


async def verify_dkim(net, message: bytes, headers: list[tuple[str, str]]) -> list[dict]:
    """Each DKIM-Signature verified by dkimpy, its key records fetched beforehand through ScanNet."""
    signatures = [value for name, value in headers if name.lower() == "dkim-signature"]
    results = []
    for index, value in enumerate(signatures):
        try:
            tags = dict(parse_tag_list(re.sub(r"\r?\n[ \t]", " ", value)))
        except ValueError:
            results.append({"result": "permerror", "reason": "malformed DKIM-Signature"})
            continue
        domain, selector = tags.get("d", "").strip().lower(), tags.get("s", "").strip().lower()
        if not domain or not selector:
            results.append({"result": "permerror", "reason": "DKIM-Signature without d= or s="})
            continue
        name = f"{selector}._domainkey.{domain}"
        try:
            texts, _ = await lookup_txt(net, name)
        except NetError as exc:
            results.append({"domain": domain, "selector": selector, "result": "temperror", "reason": exc.reason})
            continue
        key_record = texts[0].encode() if texts else None

        def from_scan_net(qname, timeout=5, _name=name, _record=key_record):
            asked = qname.decode() if isinstance(qname, bytes) else qname
            return _record if asked.rstrip(".").lower() == _name else None

        verifier = dkim.DKIM(message, minkey=1024)
        try:
            ok = verifier.verify(idx=index, dnsfunc=from_scan_net)
            reason = "signature verified" if ok else "signature did not verify"
        except Exception as exc:  # dkimpy raises more than DKIMException on hostile input; all mean "not valid"
            ok, reason = False, f"{type(exc).__name__}: {exc}"
        if key_record is None:
            reason = f"no key at {name}"
        results.append({"domain": domain, "selector": selector, "result": "pass" if ok else "fail",
                        "reason": reason})
    return results


# --- DMARC ------------------------------------------------------------------------------------------------------


def from_domain(headers: list[tuple[str, str]]) -> str | None:
    """The RFC5322.From domain; None when there is not exactly one From address (RFC 7489 s6.6.1)."""
    values = [value for name, value in headers if name.lower() == "from"]
    if len(values) != 1:
        return None
    addresses = [addr for _, addr in getaddresses(values) if addr]
    if len(addresses) != 1 or "@" not in addresses[0]:
        return None
    return a_label(addresses[0].rpartition("@")[2])


def aligned(identifier: str, from_dom: str, mode: str) -> bool:
    identifier, from_dom = identifier.lower(), from_dom.lower()
    if mode == "s":
        return identifier == from_dom
    return org_domain(identifier) == org_domain(from_dom)


async def dmarc_alignment(net, from_dom: str, spf_result: str, spf_domain: str, dkim_results: list[dict]) -> dict:
    try:
        policy_domain, valid, _lookalike, source = await find_dmarc(net, from_dom)
    except NetError as exc:
        return {"result": "temperror", "reason": exc.reason}
    tags = {}
    if len(valid) == 1:
        try:
            tags = {k.lower(): v.strip().lower() for k, v in parse_tag_list(valid[0])}
        except ValueError:
            tags = {}
    aspf, adkim = tags.get("aspf", "r"), tags.get("adkim", "r")
    spf_aligned = spf_result == "pass" and aligned(spf_domain, from_dom, aspf)
    dkim_aligned = any(r["result"] == "pass" and aligned(r["domain"], from_dom, adkim) for r in dkim_results)
    policy = tags.get("sp" if source == "organizational" and "sp" in tags else "p") if tags else None
    return {"result": "pass" if spf_aligned or dkim_aligned else "fail", "from_domain": from_dom,
            "spf_aligned": spf_aligned, "dkim_aligned": dkim_aligned, "policy": policy,
            "policy_domain": policy_domain if valid else None, "record": valid[0] if len(valid) == 1 else None}
