"""The test world's certificate authority: a trusted root + intermediate, and every kind of bad certificate.

EC P-256 keys keep start-up fast (an RSA key costs tens of milliseconds; the weak-key leaf is the one RSA key).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Launch Ready test world"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class Issued:
    cert: x509.Certificate
    key: object


def _build(subject: str, issuer: Issued | None, *, ca: bool, names=(), not_before=None, not_after=None,
           key=None) -> Issued:
    key = key or ec.generate_private_key(ec.SECP256R1())
    issuer_name = issuer.cert.subject if issuer else _name(subject)
    signing_key = issuer.key if issuer else key
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before or NOW - DAY).not_valid_after(not_after or NOW + 90 * DAY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
            decipher_only=False), critical=True)
    else:
        sans = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False).add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return Issued(builder.sign(signing_key, hashes.SHA256()), key)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class TestCA:
    """Writes ca.pem (what the scanner trusts) and one chain+key file pair per certificate variant."""

    __test__ = False  # not a pytest class

    def __init__(self, directory: Path, valid_names: list[str], wrong_names=("somewhere-else.lrtest",)):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.root = _build("Launch Ready Test Root CA", None, ca=True, not_after=NOW + 3650 * DAY)
        self.intermediate = _build("Launch Ready Test Issuing CA", self.root, ca=True, not_after=NOW + 1825 * DAY)
        self.ca_bundle = self.dir / "ca.pem"
        self.ca_bundle.write_bytes(_pem(self.root.cert))
        inter = self.intermediate
        names = list(valid_names)
        other_root = _build("Unknown Root CA", None, ca=True)
        weak_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        self_signed_key = ec.generate_private_key(ec.SECP256R1())
        # variant -> (leaf, chain sent after the leaf)
        variants = {
            "valid": (_build(names[0], inter, ca=False, names=names), [inter]),
            "expired": (_build(names[0], inter, ca=False, names=names, not_before=NOW - 100 * DAY,
                               not_after=NOW - 3 * DAY), [inter]),
            "expiring": (_build(names[0], inter, ca=False, names=names, not_after=NOW + 5 * DAY), [inter]),
            "wronghost": (_build(wrong_names[0], inter, ca=False, names=list(wrong_names)), [inter]),
            "selfsigned": (self._self_signed(names, self_signed_key), []),
            "unknownca": (_build(names[0], other_root, ca=False, names=names), [other_root]),
            "incomplete": (_build(names[0], inter, ca=False, names=names), []),
            "weakkey": (_build(names[0], inter, ca=False, names=names, key=weak_key), [inter]),
        }
        self.files: dict[str, tuple[Path, Path]] = {}
        for variant, (leaf, chain) in variants.items():
            cert_path, key_path = self.dir / f"{variant}.pem", self.dir / f"{variant}.key"
            cert_path.write_bytes(_pem(leaf.cert) + b"".join(_pem(c.cert) for c in chain))
            key_path.write_bytes(leaf.key.private_bytes(serialization.Encoding.PEM,
                                                        serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
            self.files[variant] = (cert_path, key_path)
        self.expired_not_after = variants["expired"][0].cert.not_valid_after_utc

    def issue(self, label: str, names: list[str]) -> tuple[Path, Path]:
        """A valid leaf for names from the test CA's intermediate (chain included): (cert_path, key_path)."""
        leaf = _build(names[0], self.intermediate, ca=False, names=names)
        cert_path, key_path = self.dir / f"{label}.pem", self.dir / f"{label}.key"
        cert_path.write_bytes(_pem(leaf.cert) + _pem(self.intermediate.cert))
        key_path.write_bytes(leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
        return cert_path, key_path

    @staticmethod
    def _self_signed(names, key) -> x509.Certificate:
        issued = _build(names[0], None, ca=False, names=names, key=key)
        return issued
