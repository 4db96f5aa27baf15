"""Stage 3 TLS checks: tls.certificate (chain, name, dates, key) and tls.protocols (versions offered).

A certificate that fails verification is read again over an unverified handshake, so the finding can say why
(expired on ..., issued for ..., self-signed, unknown issuer, incomplete chain) instead of only "verify failed".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from .net import NetError
from .registry import check
from .runner import make_finding

EXPIRY_WARN_DAYS = 14
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
CERT_FIX = ("Renew or reissue the certificate so it is issued by a public CA for every hostname you serve, and "
            "configure the server to send the full chain (leaf + intermediates). Most hosts and CDNs do this "
            "automatically with Let's Encrypt.")


def _cn(name: x509.Name) -> str | None:
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return attrs[0].value if attrs else None


def _sans(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return []
    return ext.get_values_for_type(x509.DNSName) + [str(i) for i in ext.get_values_for_type(x509.IPAddress)]


def name_matches(host: str, names: list[str]) -> bool:
    """RFC 6125 matching: exact, or a wildcard standing for exactly the leftmost label."""
    host = host.lower().rstrip(".")
    for pattern in (n.lower().rstrip(".") for n in names):
        if pattern == host:
            return True
        if pattern.startswith("*.") and "." in host and host.split(".", 1)[1] == pattern[2:]:
            return True
    return False


def _key(cert: x509.Certificate) -> tuple[str, int]:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    return type(key).__name__, 0


def describe(host: str, chain_der: list[bytes]) -> dict:
    leaf = x509.load_der_x509_certificate(chain_der[0])
    key_type, key_bits = _key(leaf)
    now = dt.datetime.now(dt.UTC)
    not_after = leaf.not_valid_after_utc
    return {
        "subject_cn": _cn(leaf.subject),
        "issuer_cn": _cn(leaf.issuer),
        "issuer": leaf.issuer.rfc4514_string(),
        "sans": _sans(leaf),
        "not_before": leaf.not_valid_before_utc.isoformat(),
        "not_after": not_after.isoformat(),
        "days_left": (not_after - now).days if not_after > now else -((now - not_after).days + 1),
        "key_type": key_type,
        "key_bits": key_bits,
        "serial": format(leaf.serial_number, "x"),
        "signature_algorithm": getattr(leaf.signature_hash_algorithm, "name", None),
        "self_signed": leaf.issuer == leaf.subject,
        "chain_length": len(chain_der),
        "chain": [_cn(x509.load_der_x509_certificate(d).subject) for d in chain_der],
        "_not_yet_valid": leaf.not_valid_before_utc > now,
    }


def problems(host: str, facts: dict, verify_code: int | None) -> list[str]:
    """Every reason the certificate is unacceptable, most fundamental first."""
    found = []
    if facts["days_left"] < 0:
        found.append(f"expired on {facts['not_after'][:10]}")
    if facts["_not_yet_valid"]:
        found.append(f"not valid before {facts['not_before'][:10]}")
    names = facts["sans"] or ([facts["subject_cn"]] if facts["subject_cn"] else [])
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not name_matches(host, names):
            found.append(f"issued for {', '.join(names[:5]) or 'no name'}, not {host}")
    if facts["self_signed"]:
        found.append("self-signed (no certificate authority vouches for it)")
    elif verify_code is not None and facts["chain_length"] == 1 and verify_code in (20, 21):
        found.append(f"incomplete chain: the server sends only its own certificate, not the intermediate of "
                     f"{facts['issuer_cn']}")
    elif verify_code in (19, 20, 21, 2):
        found.append(f"issued by {facts['issuer_cn']}, an unknown (untrusted) certificate authority")
    weak = ((facts["key_type"] == "RSA" and facts["key_bits"] < MIN_RSA_BITS)
            or (facts["key_type"] == "EC" and facts["key_bits"] < MIN_EC_BITS) or facts["key_type"] == "DSA")
    if weak:
        found.append(f"weak key: {facts['key_type']} {facts['key_bits']} bits (need RSA >= {MIN_RSA_BITS} or "
                     f"EC >= {MIN_EC_BITS})")
    return found


@check("tls.certificate")
async def certificate(target, net, host):
    verify_error = None
    try:
        info = await net.tls_handshake(host, verify=True)
    except NetError as exc:
        if exc.kind != "tls_verify":
            raise
        verify_error = exc
        info = await net.tls_handshake(host, verify=False)
    if not info.chain_der:
        return [make_finding("tls.certificate", host, "error", f"{host} presented no certificate.",
                             {"ip": info.ip, "tls_version": info.version})]
    facts = describe(host, info.chain_der)
    code = verify_error.facts.get("verify_code") if verify_error else None
    found = problems(host, facts, code)
    facts.pop("_not_yet_valid")
    evidence = {**facts, "ip": info.ip, "tls_version": info.version, "verified": verify_error is None}
    if verify_error:
        evidence["verify_error"] = verify_error.reason
        if not found:
            found.append(verify_error.reason)
    if found:
        evidence["problems"] = found
        return [make_finding("tls.certificate", host, "fail",
                             f"The certificate of {host} is not trusted by browsers: {found[0]}.", evidence,
                             CERT_FIX)]
    if facts["days_left"] < EXPIRY_WARN_DAYS:
        return [make_finding("tls.certificate", host, "warn",
                             f"The certificate of {host} expires in {facts['days_left']} days "
                             f"({facts['not_after'][:10]}).", evidence,
                             "Renew it now, and make sure automatic renewal works (a failed renewal is why "
                             "certificates get this close).", severity="high")]
    return [make_finding("tls.certificate", host, "pass",
                         f"{host} has a valid certificate from {facts['issuer_cn']} until {facts['not_after'][:10]} "
                         f"({facts['days_left']} days).", evidence)]


VERSIONS = {"TLSv1.0": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1, "TLSv1.2": ssl.TLSVersion.TLSv1_2,
            "TLSv1.3": ssl.TLSVersion.TLSv1_3}
LEGACY = ("TLSv1.0", "TLSv1.1")
MODERN = ("TLSv1.2", "TLSv1.3")


@check("tls.protocols")
async def protocols(target, net, host):
    results = await asyncio.gather(*(net.tls_handshake(host, verify=False, version=v) for v in VERSIONS.values()),
                                   return_exceptions=True)
    accepted, other_errors = {}, []
    for name, result in zip(VERSIONS, results, strict=True):
        if isinstance(result, NetError):
            if result.kind == "tls_error":
                accepted[name] = False
            else:
                other_errors.append(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            accepted[name] = True
    if not accepted:
        raise other_errors[0]
    evidence = {"accepted": accepted, "tls13": accepted.get("TLSv1.3", False)}
    if other_errors:
        evidence["errors"] = [e.reason for e in other_errors]
    legacy = [v for v in LEGACY if accepted.get(v)]
    if not any(accepted.get(v) for v in MODERN):
        if other_errors:
            raise other_errors[0]
        return [make_finding("tls.protocols", host, "fail",
                             f"{host} offers no TLS 1.2 or 1.3; modern browsers refuse to connect.", evidence,
                             "Enable TLS 1.2 and 1.3 on the server or CDN and disable TLS 1.0/1.1.", severity="high")]
    if legacy:
        return [make_finding("tls.protocols", host, "warn",
                             f"{host} still accepts {' and '.join(legacy)}, which are deprecated and insecure.",
                             evidence, "Set the minimum TLS version to 1.2 on the server or CDN.")]
    note = " and TLS 1.3" if evidence["tls13"] else " (TLS 1.3 not offered)"
    return [make_finding("tls.protocols", host, "pass", f"{host} offers TLS 1.2{note}; TLS 1.0/1.1 are off.",
                         evidence)]
