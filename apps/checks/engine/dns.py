"""Stage 3 DNS checks: dns.records (snapshot + CNAME conflicts) and dns.dangling (takeover risk)."""

from __future__ import annotations

import asyncio

from .net import NetError
from .registry import check
from .runner import make_finding

APEX_TYPES = ("A", "AAAA", "CNAME", "NS", "CAA", "MX", "TXT")
HOST_TYPES = ("A", "AAAA", "CNAME", "TXT")


@check("dns.records")
async def records(target, net, host):
    is_apex = host == target.domain
    types = APEX_TYPES if is_apex else HOST_TYPES
    answers = await asyncio.gather(*(net.lookup(host, t) for t in types), return_exceptions=True)
    snapshot, errors = {}, {}
    by_type = {}
    for rdtype, ans in zip(types, answers, strict=True):
        if isinstance(ans, NetError):
            errors[rdtype] = ans.reason
        elif isinstance(ans, BaseException):
            raise ans
        else:
            by_type[rdtype] = ans
            snapshot[rdtype] = ans.records
    evidence = {"records": snapshot,
                "ttls": {t: a.ttl for t, a in by_type.items() if a.records and a.ttl is not None}}
    if errors:
        evidence["errors"] = errors
    if not by_type:
        first = next(iter(errors.values()))
        return [make_finding("dns.records", host, "error", f"Could not read the DNS records of {host}: {first}.",
                             evidence, "Check that your DNS provider answers for this name, then scan again.")]
    if all(a.rcode == "NXDOMAIN" and not a.cname_chain for a in by_type.values()):
        return [make_finding("dns.records", host, "fail", f"{host} has no DNS records at all (NXDOMAIN).", evidence,
                             f"Create the records for {host} at your DNS provider.")]
    cname = by_type.get("CNAME")
    chain = by_type["A"].cname_chain if "A" in by_type else []
    if chain:
        evidence["cname_chain"] = chain
    if cname and cname.records:
        if is_apex:
            return [make_finding("dns.records", host, "fail",
                                 f"The apex {host} is a CNAME; it cannot coexist with the zone's NS/SOA/MX records.",
                                 evidence, "Replace the apex CNAME with A/AAAA records, or the provider's ALIAS/"
                                 "ANAME/flattened CNAME feature.")]
        clashing = sorted(t for t, a in by_type.items() if t != "CNAME" and a.records and a.owner == host)
        if clashing:
            evidence["conflicting_types"] = clashing
            return [make_finding("dns.records", host, "fail",
                                 f"{host} has a CNAME and other records ({', '.join(clashing)}) at the same name.",
                                 evidence, "A name with a CNAME can hold nothing else: move the other records to "
                                 "another name or replace the CNAME with A/AAAA records.")]
    if errors:
        return [make_finding("dns.records", host, "error",
                             f"Some DNS lookups for {host} failed ({', '.join(sorted(errors))}).", evidence,
                             "Check that your DNS provider answers every record type, then scan again.")]
    if is_apex and not snapshot.get("CAA"):
        return [make_finding("dns.records", host, "warn",
                             f"{host} has no CAA record: any certificate authority may issue certificates for it.",
                             evidence, "Add a CAA record naming the CA you use, e.g. `0 issue \"letsencrypt.org\"`.",
                             severity="low")]
    return [make_finding("dns.records", host, "pass", f"DNS records of {host} recorded; no CNAME conflicts.",
                         evidence)]


@check("dns.dangling")
async def dangling(target, net, host):
    cname = await net.lookup(host, "CNAME")
    if not cname.records:
        return [make_finding("dns.dangling", host, "pass", f"{host} has no CNAME, so it cannot dangle.",
                             {"cname": None})]
    points_to = cname.records[0].rstrip(".")
    a, aaaa = await asyncio.gather(net.lookup(host, "A"), net.lookup(host, "AAAA"))
    evidence = {"cname": points_to, "cname_chain": a.cname_chain or aaaa.cname_chain,
                "addresses": a.records + aaaa.records, "rcode": a.rcode}
    if a.rcode == "NXDOMAIN" or aaaa.rcode == "NXDOMAIN":
        return [make_finding("dns.dangling", host, "fail",
                             f"{host} points (CNAME) to {points_to}, which does not exist: anyone who registers "
                             "that name can serve content on your domain.", evidence,
                             f"Delete the CNAME record of {host}, or re-create the resource it points to.")]
    if not evidence["addresses"]:
        return [make_finding("dns.dangling", host, "warn",
                             f"{host} points to {points_to}, which exists but has no address.", evidence,
                             "Check the service behind the CNAME still exists; remove the record if it does not.",
                             severity="medium")]
    return [make_finding("dns.dangling", host, "pass", f"{host} points to {points_to}, which resolves.", evidence)]
