"""The network profile: where names are resolved, what may be connected to, and how long anything may take.

Every DNS query and connection of the engine goes through one NetworkProfile (SPEC.md section 4). Profiles are
built from settings/env by `apps.checks.profiles`, never from user input.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field, replace

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# NAT64 well-known prefix: an address in it reaches the embedded IPv4 address through a translator.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class ProfileError(ValueError):
    """A profile setting (nameserver, port map, network) cannot be parsed."""


@dataclass(frozen=True)
class NetworkProfile:
    name: str = "internet"
    # (host, port) pairs; empty means the system's resolvers (from /etc/resolv.conf) on port 53.
    nameservers: tuple[tuple[str, int], ...] = ()
    ca_bundle: str | None = None  # None: certifi
    port_map: dict[int, int] = field(default_factory=dict)
    allowed_networks: tuple[IPNetwork, ...] = ()
    dns_timeout: float = 3.0
    connect_timeout: float = 5.0
    read_timeout: float = 10.0  # silence between two reads
    request_timeout: float = 15.0  # one whole request, however the bytes trickle in
    check_timeout: float = 30.0  # one check, all its requests included
    max_body_bytes: int = 2 * 1024 * 1024
    max_header_bytes: int = 64 * 1024
    max_redirects: int = 10
    max_concurrency: int = 32
    user_agent: str = "LaunchReady-Scanner/0.1 (+readiness check)"

    @classmethod
    def from_settings(cls, name: str, *, nameservers=(), ca_bundle="", port_map="", allowed_networks=(), **timeouts):
        return cls(
            name=name,
            nameservers=parse_nameservers(nameservers),
            ca_bundle=ca_bundle or None,
            port_map=parse_port_map(port_map),
            allowed_networks=parse_networks(allowed_networks),
            **timeouts,
        )

    def with_options(self, **changes) -> NetworkProfile:
        return replace(self, **changes)

    def port_for(self, port: int) -> int:
        return self.port_map.get(port, port)

    def refusal_reason(self, ip: str | IPAddress) -> str | None:
        """Why this address may not be connected to, or None when it may."""
        return address_refusal(ip, self.allowed_networks)


def parse_nameservers(value) -> tuple[tuple[str, int], ...]:
    items = value.split(",") if isinstance(value, str) else list(value or ())
    result = []
    for raw in items:
        raw = str(raw).strip()
        if not raw:
            continue
        host, port = raw, 53
        if raw.startswith("["):  # [v6]:port
            host, _, rest = raw[1:].partition("]")
            if rest.startswith(":"):
                port = _port(rest[1:], raw)
        elif raw.count(":") == 1:
            host, p = raw.split(":")
            port = _port(p, raw)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ProfileError(f"nameserver {raw!r} must be an IP address") from None
        result.append((host, port))
    return tuple(result)


def parse_port_map(value) -> dict[int, int]:
    if isinstance(value, dict):
        return {int(k): int(v) for k, v in value.items()}
    mapping = {}
    for pair in (value or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        src, sep, dst = pair.partition(":")
        if not sep:
            raise ProfileError(f"port map entry {pair!r} must look like 443:18443")
        mapping[_port(src, pair)] = _port(dst, pair)
    return mapping


def parse_networks(value) -> tuple[IPNetwork, ...]:
    items = value.split(",") if isinstance(value, str) else list(value or ())
    try:
        return tuple(ipaddress.ip_network(str(v).strip(), strict=False) for v in items if str(v).strip())
    except ValueError as exc:
        raise ProfileError(f"allowed network: {exc}") from None


def _port(text: str, context: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise ProfileError(f"bad port in {context!r}") from None
    if not 0 < port < 65536:
        raise ProfileError(f"port out of range in {context!r}")
    return port


def parse_ip_literal(host: str) -> IPAddress | None:
    """An IP address written in a URL host, in any encoding a browser or libc would accept, else None.

    `http://2130706433/`, `http://0x7f.1/` and `http://017700000001/` all mean 127.0.0.1 to inet_aton; a guard
    that only recognised dotted quads would send them to DNS and miss them.
    """
    host = host.strip("[]").split("%")[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address really reaches (mapped, 6to4, Teredo, NAT64), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(ip: str | IPAddress, allowed_networks=()) -> str | None:
    try:
        addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    except ValueError:
        return f"{ip!r} is not an IP address"
    candidates = [addr]
    inner = embedded_ipv4(addr)
    if inner is not None:
        candidates.append(inner)
    if allowed_networks and all(any(c in net for net in allowed_networks if c.version == net.version)
                                for c in candidates):
        return None
    for c in candidates:
        kind = _non_public_kind(c)
        if kind:
            via = f" (embedded in {addr})" if c is not addr else ""
            return f"{c} is a {kind} address{via}; the scanner only connects to public addresses"
    return None


def _non_public_kind(ip: IPAddress) -> str | None:
    if ip.is_loopback:
        return "loopback"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_link_local:
        return "link-local (cloud metadata lives here)" if str(ip).startswith("169.254.") else "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"):
        return "carrier-grade NAT"
    if isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.ip_network("fc00::/7"):
        return "unique-local"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "non-global"
    return None
