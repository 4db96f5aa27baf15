"""Domain-name validation shared by forms, the CLI and the self-serve order (plain Python, no Django).

Accepts Unicode (returned as IDNA A-labels), refuses URLs, paths, ports, IP literals and single labels.
"""

import ipaddress
import re
from functools import lru_cache

import idna

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class DomainError(ValueError):
    """The text is not a usable domain name; the message says why in words a person understands."""


def normalize_domain(text: str) -> str:
    value = (text or "").strip()
    if not value:
        raise DomainError("Enter a domain name, like example.com.")
    if len(value) > 300:
        raise DomainError("That is too long to be a domain name.")
    if "://" in value or value.lower().startswith(("http:", "https:")):
        raise DomainError("Enter the domain only (example.com), not a URL.")
    if "/" in value or "?" in value or "#" in value:
        raise DomainError("Enter the domain only (example.com), without a path.")
    if "@" in value:
        raise DomainError("Enter a domain name, not an email address.")
    if value.startswith("[") or _is_ip(value):
        raise DomainError("Enter a domain name, not an IP address.")
    if ":" in value:
        raise DomainError("Enter the domain without a port number.")
    if any(ch.isspace() for ch in value):
        raise DomainError("A domain name cannot contain spaces.")
    value = value.rstrip(".")
    if "." not in value:
        raise DomainError("Enter a full domain name with a dot, like example.com.")
    try:
        ascii_name = idna.encode(value, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise DomainError(f"That is not a valid domain name ({exc}).") from None
    ascii_name = ascii_name.lower()
    if len(ascii_name) > 253:
        raise DomainError("That domain name is longer than 253 characters.")
    labels = ascii_name.split(".")
    if any(not _LABEL.match(label) for label in labels):
        raise DomainError("Each part of a domain may use letters, digits and inner hyphens only.")
    if labels[-1].isdigit():
        raise DomainError("The last part of a domain name cannot be a number.")
    return ascii_name


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


def is_under(name: str, domain: str) -> bool:
    """True when name is domain itself or a subdomain of it (both A-labels)."""
    return name == domain or name.endswith("." + domain)


@lru_cache(maxsize=4096)
def to_unicode(name: str) -> str:
    """The Unicode form of an A-label name for display (the name itself if it is not valid IDNA). Cached: pages
    show a domain per row, and idna's checks cost ~50 µs a name; the answer depends on the name only."""
    try:
        return idna.decode(name)
    except (idna.IDNAError, UnicodeError):
        return name
