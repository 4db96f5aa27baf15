"""Stage 5 email checks: MX, SPF, DKIM, DMARC, TLS-RPT, MTA-STS, to the letter of their RFCs.

All DNS goes through `net.lookup` (the scan's one resolver cache), so a re-scan after a fix sees fresh records and
the test world answers in tests. Every finding carries the exact record text and `reasons` keywords.

RFCs: 7208 (SPF), 6376 + 8301 + 8463 (DKIM), 7489 (DMARC), 7505 (null MX), 5321 section 5.1 and 2181 section 10.3
(MX targets), 8460 (TLS-RPT), 8461 (MTA-STS).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import ipaddress
import re
from dataclasses import dataclass, field

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import idna

from .net import DnsAnswer, NetError
from .registry import check
from .runner import make_finding

# --- shared helpers ---------------------------------------------------------------------------------------------


def a_label(domain: str) -> str:
    """Unicode domains are accepted and handled as A-labels (IDNA 2008 with UTS 46 mapping)."""
    domain = domain.strip().rstrip(".").lower()
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return domain.encode("idna").decode("ascii")


@functools.lru_cache(maxsize=1)
def _psl():
    # The list ships inside the package: no network at run time. Static data, not a DNS cache.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def org_domain(domain: str) -> str:
    """RFC 7489 section 3.2: the public suffix plus one label."""
    return _psl().privatesuffix(domain) or domain


def txt_strings(answer: DnsAnswer) -> list[str]:
    """Each TXT record as one string: its character-strings concatenated without separators (RFC 7208 s3.3)."""
    out = []
    for text in answer.records:
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, text)
        out.append(b"".join(rdata.strings).decode("utf-8", "replace"))
    return out


async def lookup_txt(net, name: str) -> tuple[list[str], DnsAnswer]:
    answer = await net.lookup(name, "TXT")
    return txt_strings(answer), answer


class TagListError(ValueError):
    pass


_TAG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def parse_tag_list(text: str) -> list[tuple[str, str]]:
    """RFC 6376 section 3.2 tag=value list (also DMARC's syntax): ordered pairs; duplicates make it invalid."""
    pairs, seen = [], set()
    parts = text.split(";")
    for i, part in enumerate(parts):
        spec = part.strip(" \t\r\n")
        if not spec:
            if i == len(parts) - 1:
                continue  # a trailing ";" is allowed
            raise TagListError("empty tag between two ';'")
        name, sep, value = spec.partition("=")
        name = name.strip(" \t\r\n")
        if not sep or not _TAG_NAME.match(name):
            raise TagListError(f"malformed tag {spec!r}")
        if name in seen:
            raise TagListError(f"duplicate tag {name!r}")
        seen.add(name)
        pairs.append((name, value.strip(" \t\r\n")))
    return pairs


def _finding(check_id, domain, status, summary, reasons, evidence, remediation="", severity=None):
    evidence = {**evidence, "reasons": sorted(set(reasons))}
    return make_finding(check_id, domain, status, summary, evidence, remediation, severity)


def worst(statuses) -> str:
    order = ("fail", "error", "warn", "pass", "skipped")
    present = set(statuses)
    return next((s for s in order if s in present), "pass")


def reports_dns_errors(check_id: str):
    """A DNS failure (SERVFAIL, timeout) becomes this check's `error` finding, with reasons like every verdict."""

    def wrap(func):
        @functools.wraps(func)
        async def run(target, net):
            try:
                return await func(target, net)
            except NetError as exc:
                domain = a_label(target.domain)
                return [_finding(check_id, domain, "error", f"Could not check {domain}: {exc.reason}.",
                                 ["dns-error"], {"domain": domain, "record": None, **exc.evidence()},
                                 "Make sure your DNS provider answers for these names, then scan again.")]

        return run

    return wrap


async def mx_state(net, domain: str) -> tuple[str, list[tuple[int, str]], DnsAnswer]:
    """("null" | "mx" | "none" | "nxdomain", [(preference, host)], answer). NetError when DNS cannot tell."""
    answer = await net.lookup(domain, "MX")
    if answer.rcode == "NXDOMAIN":
        return "nxdomain", [], answer
    records = []
    for text in answer.records:
        pref, _, host = text.partition(" ")
        records.append((int(pref), host.strip().rstrip(".").lower()))
    if not records:
        return "none", records, answer
    if any(host == "" for _, host in records):
        return "null", records, answer
    return "mx", records, answer


# --- email.mx ---------------------------------------------------------------------------------------------------


def _looks_like_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


@check("email.mx", scope="target")
@reports_dns_errors("email.mx")
async def mx(target, net):
    domain = a_label(target.domain)
    kind, records, answer = await mx_state(net, domain)
    evidence = {"domain": domain, "records": answer.records}
    if kind == "nxdomain":
        return [_finding("email.mx", domain, "fail", f"{domain} does not exist in DNS, so it cannot receive mail.",
                         ["nxdomain"], evidence, f"Create the DNS zone for {domain}.")]
    if kind == "null":
        if len(records) == 1 and records[0][0] == 0:
            return [_finding("email.mx", domain, "pass", f"{domain} publishes a null MX (RFC 7505): it accepts no "
                             "mail. DKIM does not apply.", ["null-mx"], evidence)]
        if len(records) > 1:
            return [_finding("email.mx", domain, "fail", f"{domain} mixes a null MX with other MX records; RFC 7505 "
                             "forbids any other MX next to a null MX.", ["null-mx-mixed"], evidence,
                             "Keep either the single `0 .` record (no mail) or your real MX hosts, not both.")]
        return [_finding("email.mx", domain, "fail", f"{domain} has an MX pointing at the root with preference "
                         f"{records[0][0]}; a null MX must have preference 0 (RFC 7505).", ["invalid-null-mx"],
                         evidence, "Publish the null MX exactly as `0 .`.")]
    if kind == "none":
        addresses = await _addresses_or_none(net, domain)
        evidence["implicit_mx_addresses"] = addresses
        reasons = ["no-mx"] + ([] if addresses else ["no-address"])
        tail = (" Senders fall back to its A/AAAA record (implicit MX, RFC 5321 section 5.1)." if addresses else
                " It has no address either, so mail to it bounces.")
        return [_finding("email.mx", domain, "warn", f"{domain} has no MX record.{tail}", reasons, evidence,
                         "Publish MX records for your mail provider, or a null MX (`0 .`) if the domain takes "
                         "no mail.")]
    hosts = sorted({host for _, host in records})
    results = await asyncio.gather(*(_mx_host(net, h) for h in hosts))
    evidence["hosts"] = dict(zip(hosts, results, strict=True))
    reasons, problems, status = [], [], "pass"
    for host, info in evidence["hosts"].items():
        if info["status"] != "pass":
            reasons.append(info["reason"])
            problems.append(f"{host}: {info['problem']}")
            status = worst([status, info["status"]])
    if status == "pass":
        return [_finding("email.mx", domain, "pass", f"{domain} has {len(hosts)} MX host(s), all resolving.",
                         ["mx-ok"], evidence)]
    return [_finding("email.mx", domain, status, f"MX problems for {domain}: " + "; ".join(problems) + ".",
                     reasons, evidence, "Point every MX record at a hostname (not an IP address, not a CNAME) "
                     "that has A/AAAA records (RFC 5321 section 5.1, RFC 2181 section 10.3).")]


async def _addresses_or_none(net, host: str) -> list[str]:
    a, aaaa = await asyncio.gather(net.lookup(host, "A"), net.lookup(host, "AAAA"))
    return a.records + aaaa.records


async def _mx_host(net, host: str) -> dict:
    if _looks_like_ip(host):
        return {"status": "fail", "reason": "ip-literal", "problem": "is an IP address, not a hostname"}
    try:
        a, aaaa = await asyncio.gather(net.lookup(host, "A"), net.lookup(host, "AAAA"))
    except NetError as exc:
        return {"status": "error", "reason": "dns-error", "problem": exc.reason}
    info = {"addresses": a.records + aaaa.records}
    chain = a.cname_chain or aaaa.cname_chain
    if not info["addresses"]:
        return {**info, "status": "fail", "reason": "unresolvable",
                "problem": "does not exist" if a.rcode == "NXDOMAIN" else "has no A/AAAA record",
                "cname_chain": chain}
    if chain:
        return {**info, "status": "warn", "reason": "cname-target", "cname_chain": chain,
                "problem": f"is a CNAME (to {chain[-1]}); MX targets must not be aliases"}
    return {**info, "status": "pass"}


# --- email.spf --------------------------------------------------------------------------------------------------

LOOKUP_LIMIT = 10
VOID_LIMIT = 2
MX_ADDRESS_LIMIT = 10
DNS_MECHANISMS = ("include", "a", "mx", "ptr", "exists")
MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
_SPF_VERSION = re.compile(r"^v=spf1( |$)", re.IGNORECASE)
_MODIFIER = re.compile(r"^([A-Za-z][A-Za-z0-9_.\-]*)=(.*)$")
_MECHANISM = re.compile(r"^([A-Za-z][A-Za-z0-9_.\-]*)(.*)$")
_MACRO = re.compile(r"%\{([slodiphcrtvSLODIPHCRTV])(\d*)(r?)([.\-+,/_=]*)\}|%%|%_|%-", re.IGNORECASE)
_CIDR = re.compile(r"^(?::(?P<domain>.*?))?(?:/(?P<v4>0|[1-9][0-9]?))?(?://(?P<v6>0|[1-9][0-9]{0,2}))?$")
_TOPLABEL = re.compile(r"^(?=.*[a-z])[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", re.IGNORECASE)


class SpfSyntaxError(ValueError):
    pass


@dataclass
class Term:
    text: str
    kind: str  # "mechanism" | "modifier"
    name: str
    qualifier: str = "+"
    domain: str | None = None  # domain-spec as written (may hold macros)
    network: str | None = None  # ip4/ip6
    cidr4: int | None = None
    cidr6: int | None = None
    value: str = ""

    @property
    def has_macro(self) -> bool:
        return bool(self.domain and "%" in self.domain)


def _check_macro_string(text: str, *, allow_exp_letters: bool = False) -> None:
    pos = 0
    for m in _MACRO.finditer(text):
        literal = text[pos:m.start()]
        if "%" in literal:
            raise SpfSyntaxError(f"bad macro in {text!r}")
        letter = (m.group(1) or "").lower()
        if letter in ("c", "r", "t") and not allow_exp_letters:
            raise SpfSyntaxError(f"macro %{{{letter}}} is only allowed in exp= ({text!r})")
        pos = m.end()
    rest = text[pos:]
    if "%" in rest:
        raise SpfSyntaxError(f"bad macro in {text!r}")
    if any(not (0x21 <= ord(ch) <= 0x7E) for ch in text):
        raise SpfSyntaxError(f"invalid character in {text!r}")


def _check_domain_spec(spec: str) -> None:
    """domain-spec = macro-string domain-end; domain-end = "." toplabel ["."] / macro-expand (RFC 7208 s7.1)."""
    if not spec:
        raise SpfSyntaxError("empty domain-spec")
    _check_macro_string(spec)
    name = spec[:-1] if spec.endswith(".") else spec
    if "%" in spec:
        if re.search(r"(%\{[^}]*\}|%%|%_|%-)$", name):
            return  # domain-end is a macro-expand
        top = name.rsplit(".", 1)
        if len(top) < 2 or not _TOPLABEL.match(top[1]):
            raise SpfSyntaxError(f"{spec!r} does not end in a valid top label")
        return
    labels = name.split(".")
    if len(labels) < 2 or any(not label for label in labels) or len(name) > 253:
        raise SpfSyntaxError(f"{spec!r} is not a valid domain")
    if any(len(label) > 63 for label in labels):
        raise SpfSyntaxError(f"{spec!r} has a label over 63 characters")
    if not _TOPLABEL.match(labels[-1]):
        raise SpfSyntaxError(f"{spec!r} does not end in a valid top label")


def parse_spf(record: str) -> list[Term]:
    """Full RFC 7208 section 12 syntax; SpfSyntaxError (a permerror) on anything else."""
    if not record.isascii():
        raise SpfSyntaxError("the record contains non-ASCII characters")
    if not _SPF_VERSION.match(record):
        raise SpfSyntaxError("the record does not start with 'v=spf1'")
    terms: list[Term] = []
    seen_modifiers = set()
    for raw in record[6:].split(" "):
        if not raw:
            continue  # terms are separated by one or more spaces
        qualifier = raw[0] if raw[0] in "+-~?" else ""
        body = raw[1:] if qualifier else raw
        mod = _MODIFIER.match(body)
        mech = _MECHANISM.match(body)
        if mod and not qualifier and mod.group(1).lower() not in MECHANISMS:
            name, value = mod.group(1).lower(), mod.group(2)
            if name in ("redirect", "exp"):
                if name in seen_modifiers:
                    raise SpfSyntaxError(f"'{name}=' appears more than once")
                seen_modifiers.add(name)
                _check_domain_spec(value)
                terms.append(Term(raw, "modifier", name, "", domain=value))
            else:
                _check_macro_string(value, allow_exp_letters=False)
                terms.append(Term(raw, "modifier", name, "", value=value))
            continue
        if not mech or mech.group(1).lower() not in MECHANISMS:
            raise SpfSyntaxError(f"unknown mechanism {raw!r}")
        name, arg = mech.group(1).lower(), mech.group(2)
        term = Term(raw, "mechanism", name, qualifier or "+")
        if name == "all":
            if arg:
                raise SpfSyntaxError(f"'all' takes no argument ({raw!r})")
        elif name in ("include", "exists"):
            if not arg.startswith(":") or not arg[1:]:
                raise SpfSyntaxError(f"'{name}' needs ':domain' ({raw!r})")
            term.domain = arg[1:]
            _check_domain_spec(term.domain)
        elif name == "ptr":
            if arg:
                if not arg.startswith(":"):
                    raise SpfSyntaxError(f"bad 'ptr' term {raw!r}")
                term.domain = arg[1:]
                _check_domain_spec(term.domain)
        elif name in ("a", "mx"):
            m = _CIDR.match(arg)
            if not m or (arg and not arg.startswith((":", "/"))):
                raise SpfSyntaxError(f"bad '{name}' term {raw!r}")
            if m.group("domain") is not None:
                term.domain = m.group("domain")
                _check_domain_spec(term.domain)
            if m.group("v4") is not None:
                term.cidr4 = int(m.group("v4"))
                if term.cidr4 > 32:
                    raise SpfSyntaxError(f"IPv4 prefix length over 32 in {raw!r}")
            if m.group("v6") is not None:
                term.cidr6 = int(m.group("v6"))
                if term.cidr6 > 128:
                    raise SpfSyntaxError(f"IPv6 prefix length over 128 in {raw!r}")
        else:  # ip4 / ip6
            if not arg.startswith(":"):
                raise SpfSyntaxError(f"'{name}' needs ':address' ({raw!r})")
            address, slash, length = arg[1:].partition("/")
            version = 4 if name == "ip4" else 6
            try:
                parsed = ipaddress.ip_address(address)
            except ValueError:
                raise SpfSyntaxError(f"{address!r} is not an IPv{version} address ({raw!r})") from None
            if parsed.version != version or (version == 4 and not re.fullmatch(r"[0-9.]+", address)):
                raise SpfSyntaxError(f"{address!r} is not an IPv{version} address ({raw!r})")
            top = 32 if version == 4 else 128
            if slash:
                if not re.fullmatch(r"0|[1-9][0-9]{0,2}", length) or int(length) > top:
                    raise SpfSyntaxError(f"bad prefix length in {raw!r}")
            term.network = str(ipaddress.ip_network(f"{address}/{length or top}", strict=False))
        terms.append(term)
    return terms


@dataclass
class SpfWalk:
    """State of one static evaluation: every DNS-querying term counted as a real evaluation would."""

    lookups: int = 0
    voids: int = 0
    reasons: set = field(default_factory=set)
    problems: list = field(default_factory=list)
    authorized: list = field(default_factory=list)
    includes: list = field(default_factory=list)  # (include target, path) of every include, for approval checks

    def flag(self, reason: str, problem: str):
        self.reasons.add(reason)
        if problem not in self.problems:
            self.problems.append(problem)


def spf_records(texts: list[str]) -> list[str]:
    return [t for t in texts if _SPF_VERSION.match(t)]


async def _spf_node(net, domain: str, walk: SpfWalk, path: tuple[str, ...], authorize: bool) -> dict:
    node: dict = {"domain": domain, "record": None, "lookups": 0, "children": []}
    try:
        texts, _ = await lookup_txt(net, domain)
    except NetError as exc:
        node["error"] = exc.reason
        walk.flag("dns-error", f"SPF lookup of {domain} failed: {exc.reason}")
        return node
    records = spf_records(texts)
    if not records:
        node["error"] = "no SPF record"
        return node
    if len(records) > 1:
        node["records"] = records
        node["error"] = "multiple SPF records"
        walk.flag("multiple-records", f"{domain} publishes {len(records)} SPF records (permerror)")
        return node
    node["record"] = records[0]
    try:
        terms = parse_spf(records[0])
    except SpfSyntaxError as exc:
        node["error"] = str(exc)
        walk.flag("syntax-error", f"{domain}: {exc}")
        return node
    has_all = any(t.name == "all" for t in terms if t.kind == "mechanism")
    node["all"] = None
    for term in terms:
        if term.kind != "mechanism":
            continue
        if term.name == "all":
            node["all"] = term.qualifier
            break  # `all` always matches: nothing after it is evaluated
        if term.name in DNS_MECHANISMS:
            walk.lookups += 1
            node["lookups"] += 1
            if walk.lookups > LOOKUP_LIMIT:
                walk.flag("lookup-limit", f"more than {LOOKUP_LIMIT} DNS-querying terms (RFC 7208 section 4.6.4)")
                if walk.lookups > 3 * LOOKUP_LIMIT:
                    break  # already a permerror; stop spending queries
        await _spf_term(net, domain, term, node, walk, path, authorize and term.qualifier == "+")
    redirect = next((t for t in terms if t.kind == "modifier" and t.name == "redirect"), None)
    if redirect is not None and not has_all:  # RFC 7208 s6.1: redirect is ignored when `all` is present
        walk.lookups += 1
        node["lookups"] += 1
        if walk.lookups > LOOKUP_LIMIT:
            walk.flag("lookup-limit", f"more than {LOOKUP_LIMIT} DNS-querying terms (RFC 7208 section 4.6.4)")
        node["redirect"] = redirect.domain
        if redirect.has_macro:
            node["children"].append({"domain": redirect.domain, "via": "redirect", "unevaluated": "macro"})
            node["effective_all"] = "unknown"  # depends on the sender: cannot be judged statically
        else:
            target = a_label(redirect.domain)
            if target in path or target == domain:
                walk.flag("loop", f"redirect loop: {' -> '.join(path + (domain, target))}")
                node["children"].append({"domain": target, "via": "redirect", "loop": True})
            elif walk.lookups <= 3 * LOOKUP_LIMIT:
                child = await _spf_node(net, target, walk, path + (domain,), authorize)
                child["via"] = "redirect"
                node["children"].append(child)
                if child.get("error") == "no SPF record":
                    walk.flag("redirect-no-spf", f"redirect target {target} has no SPF record (permerror)")
                node["effective_all"] = child.get("effective_all", child.get("all"))
    node.setdefault("effective_all", node["all"])
    return node


async def _spf_term(net, domain, term: Term, node, walk: SpfWalk, path, authorize: bool):
    if term.name in ("ip4", "ip6"):
        if authorize:
            walk.authorized.append(term.network)
            if ipaddress.ip_network(term.network).prefixlen == 0:
                walk.flag("plus-all", f"{term.text} in {domain} authorizes every address")
        return
    if term.name == "ptr":
        walk.flag("ptr", f"{domain} uses the 'ptr' mechanism, which RFC 7208 section 5.5 says not to use")
        return
    if term.has_macro:
        node["children"].append({"term": term.text, "unevaluated": "macro"})
        return
    target = a_label(term.domain) if term.domain else domain
    if term.name == "include":
        walk.includes.append((target, path + (domain,)))
        if target in path or target == domain:
            walk.flag("loop", f"include loop: {' -> '.join(path + (domain, target))}")
            node["children"].append({"domain": target, "via": "include", "loop": True})
            return
        if walk.lookups > 3 * LOOKUP_LIMIT:
            return
        child = await _spf_node(net, target, walk, path + (domain,), authorize)
        child["via"] = "include"
        child["qualifier"] = term.qualifier
        node["children"].append(child)
        if child.get("error") == "no SPF record":
            walk.flag("include-no-spf", f"include target {target} has no SPF record (permerror)")
        if term.qualifier == "+" and child.get("effective_all") == "+":
            walk.flag("plus-all", f"{domain} includes {target}, which ends in +all: every address passes")
        return
    if term.name == "exists":
        answer = await net.lookup(target, "A")
        node["children"].append({"term": term.text, "addresses": answer.records})
        if not answer.records:
            _void(walk, term, domain)
        return
    if term.name == "a":
        a, aaaa = await asyncio.gather(net.lookup(target, "A"), net.lookup(target, "AAAA"))
        ips = a.records + aaaa.records
        node["children"].append({"term": term.text, "addresses": ips})
        if not ips:
            _void(walk, term, domain)
        if authorize:
            walk.authorized.extend(_with_cidr(ips, term))
        return
    # mx
    answer = await net.lookup(target, "MX")
    hosts = [r.partition(" ")[2].strip().rstrip(".").lower() for r in answer.records]
    hosts = [h for h in hosts if h]
    entry = {"term": term.text, "mx_hosts": hosts}
    node["children"].append(entry)
    if not answer.records:
        _void(walk, term, domain)
        return
    if len(hosts) > MX_ADDRESS_LIMIT:
        walk.flag("mx-limit", f"{term.text} in {domain} has {len(hosts)} MX hosts; more than "
                  f"{MX_ADDRESS_LIMIT} is a permerror (RFC 7208 section 4.6.4)")
        return
    results = await asyncio.gather(*(net.lookup(h, t) for h in hosts for t in ("A", "AAAA")))
    ips = [ip for r in results for ip in r.records]
    entry["addresses"] = ips
    if authorize:
        walk.authorized.extend(_with_cidr(ips, term))


def _void(walk: SpfWalk, term: Term, domain: str):
    walk.voids += 1
    if walk.voids > VOID_LIMIT:
        walk.flag("void-lookups", f"more than {VOID_LIMIT} lookups returned nothing (RFC 7208 section 4.6.4); "
                  f"the last was {term.text} in {domain}")


def _with_cidr(ips: list[str], term: Term) -> list[str]:
    out = []
    for ip in ips:
        addr = ipaddress.ip_address(ip)
        length = (term.cidr4 if addr.version == 4 else term.cidr6)
        length = (32 if addr.version == 4 else 128) if length is None else length
        out.append(str(ipaddress.ip_network(f"{ip}/{length}", strict=False)))
    return out


SPF_FAIL_REASONS = ("no-record", "multiple-records", "syntax-error", "lookup-limit", "void-lookups",
                    "include-no-spf", "redirect-no-spf", "loop", "plus-all", "mx-limit")
SPF_WARN_REASONS = ("neutral-all", "ptr", "missing-all", "unapproved-include")


def _approved(include: str, senders: list[str]) -> bool:
    return any(include == s or include.endswith("." + s) for s in senders)


@check("email.spf", scope="target")
@reports_dns_errors("email.spf")
async def spf(target, net):
    domain = a_label(target.domain)
    texts, answer = await lookup_txt(net, domain)
    records = spf_records(texts)
    evidence = {"domain": domain, "record": records[0] if len(records) == 1 else records or None}
    if not records:
        return [_finding("email.spf", domain, "fail", f"{domain} has no SPF record: receivers cannot tell which "
                         "servers may send its mail.", ["no-record"], evidence,
                         'Publish one TXT record such as "v=spf1 include:<your provider> -all".')]
    if len(records) > 1:
        return [_finding("email.spf", domain, "fail", f"{domain} publishes {len(records)} SPF records; receivers "
                         "treat that as a permanent error (RFC 7208 section 4.5).", ["multiple-records"], evidence,
                         "Merge them into a single v=spf1 record.")]
    walk = SpfWalk()
    tree = await _spf_node(net, domain, walk, (), authorize=True)
    effective_all = tree.get("effective_all")
    if effective_all == "+":
        walk.flag("plus-all", "the record ends in +all: every server on the internet may send as you")
    elif effective_all == "?":
        walk.flag("neutral-all", "the record ends in ?all (neutral): unlisted servers are not refused")
    elif effective_all is None and not walk.reasons & set(SPF_FAIL_REASONS):
        walk.flag("missing-all", "the record (after any redirect) has no 'all': unlisted servers get a neutral "
                  "result")
    senders = [a_label(s.removeprefix("include:")) for s in target.spf_senders]
    own = org_domain(domain)
    unapproved = []
    if senders:
        for include, via in walk.includes:
            # Judge the includes the domain itself chose: those in its record, its redirects, and its own
            # sub-records; what an approved provider includes in turn is the provider's business.
            if all(org_domain(hop) == own for hop in via) and org_domain(include) != own \
                    and not _approved(include, senders):
                unapproved.append(include)
    for include in dict.fromkeys(unapproved):
        walk.flag("unapproved-include", f"include:{include} is not in the approved sender list")
    evidence.update({"tree": tree, "lookups": walk.lookups, "void_lookups": walk.voids,
                     "authorized": list(dict.fromkeys(walk.authorized)), "all": effective_all,
                     "approved_senders": senders, "problems": walk.problems})
    if unapproved:
        evidence["unapproved_includes"] = list(dict.fromkeys(unapproved))
    fails = [r for r in SPF_FAIL_REASONS if r in walk.reasons]
    warns = [r for r in SPF_WARN_REASONS if r in walk.reasons]
    record = records[0]
    if fails:
        return [_finding("email.spf", domain, "fail", f"SPF of {domain} is broken: " + "; ".join(walk.problems)
                         + ".", walk.reasons, evidence, _spf_advice(fails))]
    if "dns-error" in walk.reasons:
        return [_finding("email.spf", domain, "error", f"Could not evaluate the SPF of {domain}: "
                         + "; ".join(walk.problems) + ".", walk.reasons, evidence,
                         "Make sure every name in the record answers in DNS, then scan again.")]
    if warns:
        return [_finding("email.spf", domain, "warn", f"SPF of {domain} works but: " + "; ".join(walk.problems)
                         + ".", walk.reasons, evidence, _spf_advice(warns))]
    ending = {"-": "fail-all", "~": "softfail-all"}.get(effective_all or "", "redirect-macro")
    advice = "" if senders else " (declare the approved senders to have each include checked)"
    ends = f"ends in {effective_all}all" if effective_all in ("-", "~") else "ends in a redirect that uses macros"
    return [_finding("email.spf", domain, "pass", f"SPF of {domain} is valid ({walk.lookups} of {LOOKUP_LIMIT} "
                     f"DNS lookups) and {ends}{advice}: {record}", [ending], evidence)]


def _spf_advice(reasons: list[str]) -> str:
    advice = {
        "multiple-records": "Merge every v=spf1 TXT record into one.",
        "syntax-error": "Fix the syntax error (RFC 7208 section 12).",
        "lookup-limit": "Flatten includes or drop unused senders to stay within 10 DNS lookups.",
        "void-lookups": "Remove a/mx/exists terms that point at names with no records.",
        "include-no-spf": "Remove includes of names that publish no SPF record.",
        "redirect-no-spf": "Point redirect= at a name that publishes an SPF record.",
        "loop": "Remove the include/redirect that points back at an earlier record.",
        "plus-all": "End the record with -all or ~all, never +all.",
        "mx-limit": "Use ip4/ip6 or include instead of mx for a domain with more than 10 MX hosts.",
        "neutral-all": "End the record with ~all or -all instead of ?all.",
        "ptr": "Replace ptr with ip4/ip6 ranges or includes.",
        "missing-all": "End the record with ~all or -all.",
        "unapproved-include": "Remove senders you do not use, or add them to the client's approved senders.",
    }
    return " ".join(advice[r] for r in reasons if r in advice)


# --- email.dkim -------------------------------------------------------------------------------------------------


def _rsa_key(der: bytes):
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_der_public_key(der)  # SubjectPublicKeyInfo, what everyone publishes
    except ValueError:
        pem = b"-----BEGIN RSA PUBLIC KEY-----\n" + base64.encodebytes(der) + b"-----END RSA PUBLIC KEY-----\n"
        return serialization.load_pem_public_key(pem)  # bare RSAPublicKey, as RFC 6376 section 3.6.1 words it


def evaluate_dkim_record(text: str) -> tuple[str, list[str], list[str], dict]:
    """(status, reasons, problems, facts) for one DKIM key record (RFC 6376 s3.6.1, RFC 8301, RFC 8463)."""
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    try:
        tags = parse_tag_list(text)
    except TagListError as exc:
        return "fail", ["syntax-error"], [str(exc)], {}
    values = dict(tags)
    facts: dict = {"tags": values}
    reasons, problems, status = [], [], "pass"
    if "v" in values and (tags[0][0] != "v" or values["v"] != "DKIM1"):
        return "fail", ["bad-version"], ["v= must be DKIM1 and the first tag"], facts
    if "p" not in values:
        return "fail", ["missing-key"], ["no p= tag"], facts
    key_text = re.sub(r"[ \t\r\n]", "", values["p"])
    if not key_text:
        return "fail", ["revoked"], ["the key is revoked (empty p=)"], facts
    key_type = values.get("k", "rsa").strip().lower()
    facts["key_type"] = key_type
    if key_type not in ("rsa", "ed25519"):
        return "fail", ["unknown-key-type"], [f"unknown key type k={key_type}"], facts
    services = [s.strip() for s in values.get("s", "*").split(":")]
    if not {"*", "email"} & set(services):
        return "fail", ["not-for-email"], [f"s={values['s']} does not cover email"], facts
    hashes = [h.strip().lower() for h in values["h"].split(":")] if "h" in values else ["sha256"]
    if "sha256" not in hashes:
        # RFC 8301: verifiers must not accept rsa-sha1; a key restricted to other hashes verifies nothing.
        return "fail", ["sha1-only"], [f"h={values['h']} allows no sha256"], facts
    try:
        der = base64.b64decode(key_text, validate=True)
    except (binascii.Error, ValueError):
        return "fail", ["bad-key"], ["p= is not valid base64"], facts
    if key_type == "ed25519":
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(der)
        except ValueError:
            return "fail", ["bad-key"], ["p= is not a 32-byte Ed25519 key"], facts
        facts["key_bits"] = 256
    else:
        try:
            key = _rsa_key(der)
        except (ValueError, TypeError):
            return "fail", ["bad-key"], ["p= does not parse as an RSA public key"], facts
        if not isinstance(key, rsa.RSAPublicKey):
            return "fail", ["key-type-mismatch"], [f"k=rsa but the key is a {type(key).__name__}"], facts
        facts["key_bits"] = key.key_size
        if key.key_size < 1024:
            return "fail", ["weak-key"], [f"RSA key of {key.key_size} bits; verifiers reject under 1024 "
                                          "(RFC 8301)"], facts
        if key.key_size < 2048:
            status = "warn"
            reasons.append("short-key")
            problems.append(f"RSA key of {key.key_size} bits; RFC 8301 asks for 2048")
    flags = [f.strip().lower() for f in values.get("t", "").split(":") if f.strip()]
    if "y" in flags:
        status = "warn"
        reasons.append("testing")
        problems.append("t=y: the domain is testing DKIM, receivers may ignore failures")
    return status, reasons, problems, facts


async def _dkim_selector(net, domain: str, selector: str) -> dict:
    name = f"{selector}._domainkey.{domain}"
    info: dict = {"name": name}
    try:
        texts, answer = await lookup_txt(net, name)
    except NetError as exc:
        return {**info, "status": "error", "reasons": ["dns-error"], "problems": [exc.reason]}
    if answer.cname_chain:
        info["cname_chain"] = answer.cname_chain
    info["records"] = texts
    if not texts:
        return {**info, "status": "fail", "reasons": ["no-record"], "problems": [f"no DKIM key at {name}"]}
    if len(texts) > 1:
        return {**info, "status": "fail", "reasons": ["multiple-records"],
                "problems": [f"{len(texts)} TXT records at {name}; verifiers may pick any"]}
    info["record"] = texts[0]
    status, reasons, problems, facts = evaluate_dkim_record(texts[0])
    info.update(facts)
    return {**info, "status": status, "reasons": reasons or ["key-ok"], "problems": problems}


@check("email.dkim", scope="target")
@reports_dns_errors("email.dkim")
async def dkim(target, net):
    domain = a_label(target.domain)
    # "google._domainkey" is a common way to write the selector "google"
    selectors = list(dict.fromkeys(s.strip().lower().removesuffix("._domainkey") for s in target.dkim_selectors
                                   if s.strip()))
    if not selectors:
        return [_finding("email.dkim", domain, "skipped", "No DKIM selector declared for this domain, so DKIM was "
                         "not checked (selectors cannot be listed from DNS).", ["no-selectors"],
                         {"domain": domain, "selectors": {}},
                         "Add the selector(s) your email provider signs with (the s= tag of a DKIM-Signature "
                         "header, e.g. `google`, `s1`) to the client's email setup.")]
    null_mx = await _null_mx(net, domain)
    results = await asyncio.gather(*(_dkim_selector(net, domain, s) for s in selectors))
    by_selector = dict(zip(selectors, results, strict=True))
    evidence = {"domain": domain, "selectors": by_selector,
                "record": {s: r.get("record") for s, r in by_selector.items()}}
    if null_mx and all(r["status"] in ("fail", "error") for r in results):
        return [_finding("email.dkim", domain, "skipped", f"{domain} publishes a null MX (sends and receives no "
                         "mail), so DKIM does not apply.", ["null-mx"], evidence)]
    status = worst(r["status"] for r in results)
    reasons = [reason for r in results for reason in r["reasons"]]
    lines = [f"{s}: {p}" for s, r in by_selector.items() for p in r["problems"]]
    if status == "pass":
        return [_finding("email.dkim", domain, "pass", f"DKIM keys valid for selector(s) {', '.join(selectors)}.",
                         reasons, evidence)]
    remediation = ("Publish a 2048-bit RSA (or Ed25519) key for each selector at <selector>._domainkey, without "
                   "t=y once signing works.")
    return [_finding("email.dkim", domain, status, f"DKIM problems for {domain}: " + "; ".join(lines) + ".",
                     reasons, evidence, remediation)]


# --- email.dmarc ------------------------------------------------------------------------------------------------

DMARC_TAGS = ("v", "p", "sp", "adkim", "aspf", "fo", "pct", "rf", "ri", "rua", "ruf")
_DMARC_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*:[^!]+?)(?:!(\d+)([kmgtKMGT])?)?$")


def dmarc_candidates(texts: list[str]) -> tuple[list[str], list[str]]:
    """(valid records, look-alikes): RFC 7489 s6.6.3 keeps only records whose first tag is v=DMARC1."""
    valid, lookalike = [], []
    for text in texts:
        first = text.split(";", 1)[0].strip(" \t")
        name, sep, value = first.partition("=")
        if sep and name.strip(" \t") == "v" and value.strip(" \t") == "DMARC1":
            valid.append(text)
        elif "dmarc" in text.lower():
            lookalike.append(text)
    return valid, lookalike


def parse_dmarc_uri(raw: str) -> tuple[str, str | None]:
    """(uri, mailto host or None); ValueError when not a DMARC URI (RFC 7489 s6.2)."""
    m = _DMARC_URI.match(raw.strip())
    if not m:
        raise ValueError(f"{raw!r} is not a URI")
    uri = m.group(1)
    if uri.lower().startswith("mailto:"):
        address = uri[7:].split("?", 1)[0]
        local, at, host = address.rpartition("@")
        if not at or not local or "." not in host:
            raise ValueError(f"{raw!r} is not a mailto: address")
        return uri, host.lower().rstrip(".")
    return uri, None


async def _report_authorized(net, policy_domain: str, dest: str) -> bool:
    texts, _ = await lookup_txt(net, f"{policy_domain}._report._dmarc.{dest}")
    return any(t.strip(" \t").startswith("v=DMARC1") for t in texts)


async def find_dmarc(net, domain: str) -> tuple[str, list[str], list[str], str]:
    """(policy domain, valid records, look-alikes, source) with the organizational-domain fallback."""
    texts, _ = await lookup_txt(net, f"_dmarc.{domain}")
    valid, lookalike = dmarc_candidates(texts)
    if valid or lookalike:
        return domain, valid, lookalike, "domain"
    org = org_domain(domain)
    if org != domain:
        texts, _ = await lookup_txt(net, f"_dmarc.{org}")
        valid, lookalike = dmarc_candidates(texts)
        if valid or lookalike:
            return org, valid, lookalike, "organizational"
    return domain, [], [], "none"


@check("email.dmarc", scope="target")
@reports_dns_errors("email.dmarc")
async def dmarc(target, net):
    domain = a_label(target.domain)
    policy_domain, valid, lookalike, source = await find_dmarc(net, domain)
    evidence: dict = {"domain": domain, "policy_domain": policy_domain, "policy_source": source,
                      "record": valid[0] if len(valid) == 1 else (valid or lookalike or None)}
    if source == "organizational":
        evidence["org_domain"] = policy_domain
    F = functools.partial(_finding, "email.dmarc", domain)
    if not valid and lookalike:
        reason = "version-not-first" if any(re.search(r"(^|;)[ \t]*v[ \t]*=[ \t]*DMARC1[ \t]*(;|$)", t)
                                            for t in lookalike) else "invalid-version"
        return [F("fail", f"The DMARC record at _dmarc.{policy_domain} does not start with v=DMARC1, so receivers "
                  "ignore it (RFC 7489 section 6.6.3).", [reason], evidence,
                  "Start the record with exactly `v=DMARC1;` (case-sensitive).")]
    if not valid:
        return [F("fail", f"{domain} has no DMARC record (nor has its organizational domain).", ["no-record"],
                  evidence, f'Publish a TXT record at _dmarc.{domain}: "v=DMARC1; p=none; rua=mailto:dmarc@{domain}"'
                  ", then move to quarantine/reject.")]
    if len(valid) > 1:
        return [F("fail", f"_dmarc.{policy_domain} has {len(valid)} DMARC records; receivers then apply none "
                  "(RFC 7489 section 6.6.3).", ["multiple-records"], evidence, "Keep exactly one DMARC record.")]
    try:
        tags = dict(parse_tag_list(valid[0]))
    except TagListError as exc:
        return [F("fail", f"The DMARC record of {policy_domain} is malformed: {exc}.", ["syntax-error"], evidence,
                  "Write the record as `tag=value` pairs separated by ';'.")]
    evidence["tags"] = tags
    reasons: list[str] = []
    fails: list[str] = []
    warns: list[str] = []
    unknown = [t for t in tags if t.lower() not in DMARC_TAGS]
    if unknown:
        reasons.append("unknown-tags")
        warns.append(f"unknown tag(s) {', '.join(unknown)} are ignored by receivers")
    low = {k.lower(): v for k, v in tags.items()}
    for name in ("p", "sp"):
        if name in low and low[name].lower() not in ("none", "quarantine", "reject"):
            reasons.append(f"invalid-{name}")
            fails.append(f"{name}={low[name]} is not none, quarantine or reject")
    invalid = []
    for name, ok in (("adkim", lambda v: v.lower() in ("r", "s")), ("aspf", lambda v: v.lower() in ("r", "s")),
                     ("pct", lambda v: v.isdigit() and int(v) <= 100),
                     ("ri", lambda v: v.isdigit() and int(v) < 2 ** 32),
                     ("fo", lambda v: all(x.strip().lower() in ("0", "1", "d", "s") for x in v.split(":"))),
                     ("rf", lambda v: all(x.strip().lower() == "afrf" for x in v.split(":")))):
        if name in low and not ok(low[name].strip()):
            invalid.append(f"{name}={low[name]}")
    destinations: dict[str, list[str]] = {}
    for name in ("rua", "ruf"):
        if name not in low:
            continue
        for raw in (u for u in low[name].split(",")):
            try:
                uri, host = parse_dmarc_uri(raw)
            except ValueError:
                invalid.append(f"{name} entry {raw.strip()!r}")
                continue
            if host is None:
                reasons.append("unsupported-uri")
                warns.append(f"{name} {uri} is not a mailto: URI; receivers are only required to support mailto")
                continue
            destinations.setdefault(name, []).append(host)
    if invalid:
        reasons.append("invalid-tag-value")
        warns.append(f"invalid value(s) {', '.join(invalid)} are ignored (defaults apply)")
    policy = low.get("p", "").lower()
    if "p" not in low:
        reasons.append("missing-p")
        warns.append("no p= tag: receivers treat it as p=none at best")
        policy = "none"
    applied = policy
    if source == "organizational":
        sp = low.get("sp", "").lower()
        applied = sp if sp in ("none", "quarantine", "reject") else policy
        reasons.append("org-domain-fallback")
        evidence["applied_via"] = "sp" if "sp" in low else "p"
    evidence["policy"] = applied
    if applied == "none" and "invalid-p" not in reasons:
        reasons.append("monitoring")
        if not destinations.get("rua"):
            reasons.append("no-rua")
            warns.append("p=none without rua= collects nothing: monitoring mode needs aggregate reports")
    pct = low.get("pct", "100").strip()
    if pct.isdigit() and int(pct) < 100:
        reasons.append("pct-below-100")
        warns.append(f"pct={pct}: the policy applies to only {pct}% of failing mail")
    own = org_domain(policy_domain)
    authorization = {}
    for name, hosts in destinations.items():
        for host in dict.fromkeys(hosts):
            if org_domain(host) == own:
                continue
            try:
                ok = await _report_authorized(net, policy_domain, host)
            except NetError as exc:
                authorization[host] = f"unknown ({exc.reason})"
                continue
            authorization[host] = ok
            if not ok:
                reasons.append(f"external-{name}-unauthorized")
                warns.append(f"{name} sends reports to {host}, which has not authorized them "
                             f"({policy_domain}._report._dmarc.{host} is missing, RFC 7489 section 7.1)")
    if authorization:
        evidence["external_authorization"] = authorization
    evidence["problems"] = fails + warns
    where = (f" (inherited from the organizational domain {policy_domain} via "
             f"{evidence.get('applied_via')})" if source == "organizational" else "")
    if fails:
        return [F("fail", f"The DMARC record of {policy_domain} is invalid: " + "; ".join(fails) + ".", reasons,
                  evidence, "Set p= (and sp=) to none, quarantine or reject.")]
    if warns:
        return [F("warn", f"DMARC policy {applied}{where}, but: " + "; ".join(warns) + ".", reasons, evidence,
                  _dmarc_advice(reasons))]
    if applied == "none":
        return [F("pass", f"DMARC is in monitoring mode (p=none){where} with reports to "
                  f"{', '.join(destinations.get('rua', []))}.", reasons, evidence,
                  "Once the reports show all your senders aligned, move to p=quarantine, then p=reject.")]
    return [F("pass", f"DMARC policy {applied}{where}.", reasons + [f"policy-{applied}"], evidence)]


def _dmarc_advice(reasons: list[str]) -> str:
    advice = []
    if "no-rua" in reasons:
        advice.append("Add rua=mailto:<address> to receive aggregate reports.")
    if any(r.startswith("external-") for r in reasons):
        advice.append("Ask the report destination to publish <your domain>._report._dmarc.<their domain> "
                      "\"v=DMARC1\", or use an address at your own domain.")
    if "pct-below-100" in reasons:
        advice.append("Remove pct= (defaults to 100) once you are confident.")
    if "unknown-tags" in reasons or "invalid-tag-value" in reasons:
        advice.append("Fix or remove the tags receivers do not understand (RFC 7489 section 6.3).")
    if "missing-p" in reasons:
        advice.append("Add p=none (or stronger) right after v=DMARC1.")
    if "unsupported-uri" in reasons:
        advice.append("Use mailto: report addresses.")
    return " ".join(advice)


# --- email.tls_rpt ----------------------------------------------------------------------------------------------


def _info_skip(check_id: str, domain: str, what: str):
    return _finding(check_id, domain, "skipped", f"{domain} publishes a null MX (accepts no mail), so {what} "
                    "does not apply.", ["null-mx"], {"domain": domain})


def is_null_mx(kind: str, records: list[tuple[int, str]]) -> bool:
    """Exactly one MX, preference 0, root target (RFC 7505 section 3)."""
    return kind == "null" and records == [(0, "")]


async def _null_mx(net, domain: str) -> bool:
    try:
        kind, records, _ = await mx_state(net, domain)
    except NetError:
        return False
    return is_null_mx(kind, records)


@check("email.tls_rpt", scope="target")
@reports_dns_errors("email.tls_rpt")
async def tls_rpt(target, net):
    domain = a_label(target.domain)
    if await _null_mx(net, domain):
        return [_info_skip("email.tls_rpt", domain, "TLS reporting")]
    texts, _ = await lookup_txt(net, f"_smtp._tls.{domain}")
    records = [t for t in texts if re.match(r"^v=TLSRPTv1[ \t]*(;|$)", t)]
    evidence = {"domain": domain, "record": records[0] if len(records) == 1 else (records or None)}
    F = functools.partial(_finding, "email.tls_rpt", domain)
    if not records:
        return [F("warn", f"{domain} publishes no TLS-RPT record: senders cannot report TLS failures to you.",
                  ["no-record"], evidence,
                  f'Publish TXT _smtp._tls.{domain} "v=TLSRPTv1; rua=mailto:tlsrpt@{domain}".')]
    if len(records) > 1:
        return [F("fail", f"_smtp._tls.{domain} has {len(records)} TLS-RPT records; senders then ignore them "
                  "(RFC 8460 section 3).", ["multiple-records"], evidence, "Keep exactly one v=TLSRPTv1 record.")]
    fields = [f.strip(" \t") for f in records[0].split(";")]
    problems, rua = [], None
    for item in fields[1:]:
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", name.strip()):
            problems.append(f"malformed field {item!r}")
        elif name.strip() == "rua":
            rua = [u.strip() for u in value.split(",")]
    if rua is None:
        problems.append("no rua= field")
    else:
        for uri in rua:
            if not re.match(r"^(mailto:[^@\s]+@[^@\s]+\.[^@\s]+|https://[^\s]+)$", uri, re.IGNORECASE):
                problems.append(f"rua {uri!r} is not a mailto: or https: URI")
    evidence["rua"] = rua
    if problems:
        return [F("fail", f"The TLS-RPT record of {domain} is invalid: " + "; ".join(problems) + ".",
                  ["invalid-record"], evidence, "Write it as `v=TLSRPTv1; rua=mailto:<address>` (RFC 8460).")]
    return [F("pass", f"{domain} publishes a valid TLS-RPT record (reports to {', '.join(rua)}).", ["valid"],
              evidence)]


# --- email.mta_sts ----------------------------------------------------------------------------------------------

STS_MAX_AGE = 31557600


def parse_sts_policy(text: str) -> tuple[dict, list[str]]:
    """RFC 8461 section 3.2: key: value lines; returns (fields with mx as a list, problems)."""
    policy: dict = {"mx": []}
    problems = []
    for line in re.split(r"\r?\n", text):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", key):
            problems.append(f"malformed line {line[:60]!r}")
            continue
        if key == "mx":
            policy["mx"].append(value.lower())
        elif key not in policy:
            policy[key] = value
    if policy.get("version") != "STSv1":
        problems.append("version is not STSv1")
    if policy.get("mode") not in ("enforce", "testing", "none"):
        problems.append(f"mode {policy.get('mode')!r} is not enforce, testing or none")
    max_age = policy.get("max_age", "")
    if not (max_age.isdigit() and len(max_age) <= 10 and int(max_age) <= STS_MAX_AGE):
        problems.append(f"max_age {max_age!r} is not an integer from 0 to {STS_MAX_AGE}")
    if policy.get("mode") in ("enforce", "testing") and not policy["mx"]:
        problems.append("no mx: pattern")
    return policy, problems


def mx_matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return "." in host and host.split(".", 1)[1] == pattern[2:]  # the wildcard covers one label
    return host == pattern


@check("email.mta_sts", scope="target")
@reports_dns_errors("email.mta_sts")
async def mta_sts(target, net):
    domain = a_label(target.domain)
    if await _null_mx(net, domain):
        return [_info_skip("email.mta_sts", domain, "MTA-STS")]
    texts, _ = await lookup_txt(net, f"_mta-sts.{domain}")
    records = [t for t in texts if re.match(r"^v=STSv1[ \t]*(;|$)", t)]
    evidence: dict = {"domain": domain, "record": records[0] if len(records) == 1 else (records or None)}
    F = functools.partial(_finding, "email.mta_sts", domain)
    if not records:
        return [F("warn", f"{domain} publishes no MTA-STS record: senders may deliver to it without TLS.",
                  ["no-record"], evidence, "Publish _mta-sts TXT \"v=STSv1; id=<date>\" and a policy at "
                  f"https://mta-sts.{domain}/.well-known/mta-sts.txt (RFC 8461).")]
    if len(records) > 1:
        return [F("fail", f"_mta-sts.{domain} has {len(records)} STS records; senders then ignore MTA-STS "
                  "(RFC 8461 section 3.1).", ["multiple-records"], evidence, "Keep exactly one v=STSv1 record.")]
    try:
        tags = dict(parse_tag_list(records[0]))
    except TagListError as exc:
        tags = {}
        evidence["problem"] = str(exc)
    if not re.fullmatch(r"[A-Za-z0-9]{1,32}", tags.get("id", "")):
        return [F("fail", f"The MTA-STS record of {domain} has no valid id= (1-32 letters or digits).",
                  ["invalid-record"], evidence, "Set id= to a short alphanumeric version, e.g. 20260101.")]
    url = f"https://mta-sts.{domain}/.well-known/mta-sts.txt"
    evidence["policy_url"] = url
    try:
        response = await net.fetch(url)  # one GET: RFC 8461 s3.3 forbids following redirects
    except NetError as exc:
        evidence.update(exc.evidence())
        return [F("fail", f"The MTA-STS policy of {domain} could not be fetched: {exc.reason}.",
                  ["policy-unreachable"], evidence, f"Serve the policy at {url} over HTTPS with a valid "
                  "certificate.")]
    evidence["http_status"] = response.status
    if response.status != 200:
        return [F("fail", f"{url} answered HTTP {response.status}, not 200.", ["policy-unreachable"], evidence,
                  f"Serve the policy at {url} with status 200 (redirects are not followed).")]
    content_type = (response.header("content-type") or "").split(";")[0].strip().lower()
    policy, problems = parse_sts_policy(response.text)
    evidence["policy"] = policy
    evidence["policy_text"] = response.text[:2000]
    if content_type != "text/plain":
        problems.append(f"Content-Type is {content_type or 'missing'}, not text/plain")
    if problems:
        return [F("fail", f"The MTA-STS policy of {domain} is invalid: " + "; ".join(problems) + ".",
                  ["invalid-policy"], evidence, "Fix the policy file (RFC 8461 section 3.2).")]
    try:
        _kind, mx_records, _ = await mx_state(net, domain)
    except NetError:
        mx_records = []
    uncovered = [h for _, h in mx_records if not any(mx_matches(h, p) for p in policy["mx"])
                 and policy["mode"] != "none"]  # mode none asks senders for nothing
    if uncovered:
        evidence["uncovered_mx"] = uncovered
        return [F("warn", f"The MTA-STS policy of {domain} does not cover MX host(s) {', '.join(uncovered)}: "
                  "senders enforcing it cannot deliver there.", ["mx-mismatch"], evidence,
                  "List every MX host (or a *. pattern) as mx: in the policy.")]
    mode = policy["mode"]
    if mode != "enforce":
        return [F("warn", f"MTA-STS of {domain} is in mode {mode}: nothing is enforced yet.", [f"mode-{mode}"],
                  evidence, "Switch the policy to mode: enforce once TLS-RPT reports are clean.")]
    return [F("pass", f"MTA-STS of {domain} is valid and enforced.", ["mode-enforce"], evidence)]
