"""ScanNet: the one door to the network for a scan.

Names are resolved here with dnspython against the profile's nameservers (never getaddrinfo), once per
(name, type) per scan; every connection goes to an IP from that single resolution, after the address guard, with the
hostname as SNI and Host.

Why asyncio streams + h11 rather than httpx: httpx/httpcore resolve and connect on their own (getaddrinfo, pooled
connections, proxies from the environment, redirect hooks that see URLs but not the IP a socket reaches). Opening the
socket ourselves to an address we have just checked leaves no path around the guard: there is no pool, no proxy,
no second resolution, and every redirect hop comes back through `fetch()` and the guard. h11 does the HTTP/1.1
framing (chunked, content-length, close-delimited) so we only write the I/O loop, where timeouts and the body cap live.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import ssl
import time
import warnings
import zlib
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rcode
import dns.rdatatype
import dns.resolver
import h11

from .profile import NetworkProfile, parse_ip_literal


class NetError(Exception):
    """The network could not give an answer. `kind` is a stable word checks branch on; str() is for humans."""

    def __init__(self, kind: str, reason: str, **facts):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.facts = facts

    def evidence(self) -> dict:
        return {"error": self.kind, "reason": self.reason, **self.facts}


# Characters a request target keeps as they are: RFC 3986's reserved set, '%' (existing escapes) and the unreserved
# ones quote() always keeps. Everything else — non-ASCII, spaces, control characters — is sent percent-encoded as
# UTF-8, as browsers do; h11 (rightly) refuses to put such characters on the wire.
_TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"


def request_target(parts) -> str:
    """The path and query of a urlsplit() result as they go on the wire."""
    return quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=_TARGET_SAFE)


def host_header(parts) -> str:
    """The Host header of a urlsplit() result: an internationalised name in its ASCII (IDNA) form."""
    host = parts.netloc.rsplit("@", 1)[-1]
    if host.isascii():
        return host
    name, sep, port = host.rpartition(":") if not host.endswith("]") and ":" in host else (host, "", "")
    try:
        return name.encode("idna").decode("ascii") + sep + port
    except UnicodeError:
        raise NetError("bad_url", f"{host!r} is not a valid host name") from None


# Kinds that mean "the name or address is definitely not serving" rather than "we could not tell".
DEAD_KINDS = {"nxdomain", "no_address", "connect_refused"}


@dataclass
class DnsAnswer:
    name: str
    rdtype: str
    rcode: str  # NOERROR | NXDOMAIN
    records: list[str] = field(default_factory=list)
    cname_chain: list[str] = field(default_factory=list)  # CNAME targets followed, in order
    ttl: int | None = None
    owner: str | None = None  # owner name of the final records (differs from name after a CNAME)

    @property
    def exists(self) -> bool:
        return self.rcode == "NOERROR"


@dataclass
class Response:
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    truncated: bool
    ip: str
    port: int
    ttfb_ms: int
    total_ms: int

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    @property
    def location(self) -> str | None:
        loc = self.header("location")
        if not loc or not 300 <= self.status < 400:
            return None
        try:
            return urljoin(self.url, loc)
        except ValueError:  # "http://[broken/": nothing to follow (follow() says so)
            return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def summary(self) -> dict:
        return {"url": self.url, "status": self.status, "ip": self.ip, "ttfb_ms": self.ttfb_ms,
                "total_ms": self.total_ms}


@dataclass
class RedirectChain:
    start: str
    hops: list[Response] = field(default_factory=list)
    error: NetError | None = None
    loop: bool = False
    too_long: bool = False

    @property
    def final(self) -> Response | None:
        if self.error or self.loop or self.too_long or not self.hops:
            return None
        return self.hops[-1]

    @property
    def redirects(self) -> int:
        return sum(1 for r in self.hops if r.location)

    def evidence(self) -> dict:
        ev = {"start": self.start, "hops": [{"url": r.url, "status": r.status, "location": r.location, "ip": r.ip}
                                            for r in self.hops]}
        if self.loop:
            ev["loop"] = True
        if self.too_long:
            ev["hop_cap_reached"] = True
        if self.error:
            ev.update(self.error.evidence())
        return ev


@dataclass
class TlsInfo:
    version: str
    cipher: str
    chain_der: list[bytes]
    ip: str


@functools.lru_cache(maxsize=8)
def verified_context(ca_bundle: str | None) -> ssl.SSLContext:
    if ca_bundle is None:
        import certifi

        ca_bundle = certifi.where()
    ctx = ssl.create_default_context(cafile=ca_bundle)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


@functools.lru_cache(maxsize=8)
def unverified_context(version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    """For reading a certificate that failed verification, and for probing old protocol versions."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if version is not None:
        with warnings.catch_warnings():  # deprecated versions are exactly what tls.protocols must ask for
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = version
            ctx.maximum_version = version
        # OpenSSL 3 refuses TLS 1.0/1.1 at the default security level; we must be able to ask.
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    return ctx


class ScanNet:
    """Per-scan network context: resolver cache, guard, connection and request helpers, counters."""

    def __init__(self, profile: NetworkProfile):
        self.profile = profile
        self.dns_queries = 0
        self.connections = 0  # TCP connection attempts actually made
        self.connected_ips: list[str] = []
        self._dns: dict[tuple[str, str], asyncio.Future] = {}
        self._fetches: dict[tuple, asyncio.Future] = {}
        self._slots = asyncio.Semaphore(profile.max_concurrency)
        self._resolver = self._make_resolver()

    # --- DNS -----------------------------------------------------------------------------------------------------
    def _make_resolver(self) -> dns.asyncresolver.Resolver:
        p = self.profile
        if p.nameservers:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [dns.nameserver.Do53Nameserver(h, port) for h, port in p.nameservers]
        else:
            resolver = dns.asyncresolver.Resolver()
        resolver.timeout = p.dns_timeout
        resolver.lifetime = p.dns_timeout
        resolver.cache = None  # our per-scan cache is the only one: a fresh scan sees fresh DNS
        return resolver

    async def lookup(self, name: str, rdtype: str) -> DnsAnswer:
        """One query per (name, type) per scan, shared by every check; raises NetError when DNS cannot tell."""
        key = (name.lower().rstrip("."), rdtype.upper())
        fut = self._dns.get(key)
        if fut is None:
            fut = asyncio.ensure_future(self._query(*key))
            self._dns[key] = fut
        return await asyncio.shield(fut)

    async def _query(self, name: str, rdtype: str) -> DnsAnswer:
        self.dns_queries += 1
        try:
            ans = await self._resolver.resolve(name, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN as exc:
            chain = []
            for resp in exc.responses().values():
                chain = _cname_chain(resp, name)
            return DnsAnswer(name, rdtype, "NXDOMAIN", cname_chain=chain)
        except dns.resolver.NoNameservers as exc:
            rcodes = sorted({dns.rcode.to_text(r.rcode()) for *_x, r in exc.kwargs.get("errors", []) if r})
            word = (rcodes[0] if rcodes else "no answer").upper()
            kind = "dns_refused" if word == "REFUSED" else "dns_servfail"
            raise NetError(kind, f"DNS server answered {word} for {name} {rdtype}", query=f"{name} {rdtype}") from None
        except dns.exception.Timeout:
            raise NetError("dns_timeout", f"no DNS answer for {name} {rdtype} within {self.profile.dns_timeout:g} s",
                           query=f"{name} {rdtype}") from None
        except dns.exception.DNSException as exc:
            raise NetError("dns_error", f"DNS lookup of {name} {rdtype} failed: {exc}") from None
        records = [r.to_text() for r in ans.rrset] if ans.rrset is not None else []
        return DnsAnswer(name, rdtype, "NOERROR", records=records, cname_chain=_cname_chain(ans.response, name),
                         ttl=ans.rrset.ttl if ans.rrset is not None else None,
                         owner=ans.rrset.name.to_text(omit_final_dot=True) if ans.rrset is not None else None)

    async def addresses(self, host: str) -> list[str]:
        """A and AAAA of a name (following CNAMEs); NetError when none or when DNS fails."""
        literal = parse_ip_literal(host)
        if literal is not None:
            return [str(literal)]
        results = await asyncio.gather(self.lookup(host, "A"), self.lookup(host, "AAAA"), return_exceptions=True)
        ips, errors = [], []
        for r in results:
            if isinstance(r, NetError):
                errors.append(r)
            elif isinstance(r, BaseException):
                raise r
            else:
                ips.extend(r.records)
        if ips:
            return ips
        if errors:
            raise errors[0]
        if all(r.rcode == "NXDOMAIN" for r in results):
            raise NetError("nxdomain", f"{host} does not exist in DNS (NXDOMAIN)", host=host)
        raise NetError("no_address", f"{host} has no A or AAAA record", host=host)

    # --- connections ---------------------------------------------------------------------------------------------
    async def allowed_addresses(self, host: str) -> list[str]:
        ips = await self.addresses(host)
        allowed = [ip for ip in ips if self.profile.refusal_reason(ip) is None]
        if not allowed:
            reasons = [self.profile.refusal_reason(ip) for ip in ips]
            raise NetError("refused_address", f"refused to connect to {host}: {reasons[0]}", host=host,
                           addresses=ips, refusals=reasons)
        return allowed

    async def open(self, host: str, port: int, *, tls: ssl.SSLContext | None = None):
        """Connect to the first allowed address of host; returns (reader, writer, ip). Always guarded."""
        p = self.profile
        ips = await self.allowed_addresses(host)
        real_port = p.port_for(port)
        last: NetError | None = None
        for ip in ips[:2]:
            # Re-check right at the socket: the address we pass to the kernel is the one the guard judged.
            if p.refusal_reason(ip) is not None:  # pragma: no cover - allowed_addresses already filtered
                continue
            self.connections += 1
            self.connected_ips.append(ip)
            try:
                # `ip` is numeric, so asyncio skips getaddrinfo (base_events._ipaddr_info): no DNS happens here.
                async with asyncio.timeout(p.connect_timeout):
                    reader, writer = await asyncio.open_connection(ip, real_port)
            except TimeoutError:
                last = NetError("connect_timeout", f"no TCP connection to {host} ({ip}) within {p.connect_timeout:g} s",
                                ip=ip)
                continue
            except OSError as exc:
                last = NetError("connect_refused", f"{host} ({ip}) refused the connection: {exc.strerror or exc}",
                                ip=ip)
                continue
            if tls is not None:
                try:
                    # The hostname (not the IP) is the SNI and what the certificate is checked against; for an
                    # IP-literal URL, ssl sends no SNI and matches the IP against the certificate's IP SANs.
                    async with asyncio.timeout(p.connect_timeout):
                        await writer.start_tls(tls, server_hostname=host.strip("[]"),
                                               ssl_handshake_timeout=p.connect_timeout)
                except TimeoutError:
                    writer.transport.abort()
                    raise NetError("tls_timeout", f"TLS handshake with {host} ({ip}) did not finish within "
                                   f"{p.connect_timeout:g} s", ip=ip) from None
                except ssl.SSLCertVerificationError as exc:
                    writer.transport.abort()
                    raise NetError("tls_verify", f"certificate of {host} failed verification: {exc.verify_message}",
                                   ip=ip, verify_code=exc.verify_code) from None
                except (ssl.SSLError, OSError) as exc:
                    writer.transport.abort()
                    raise NetError("tls_error", f"TLS handshake with {host} ({ip}) failed: {exc}", ip=ip) from None
            return reader, writer, ip
        raise last or NetError("no_address", f"no address to connect to for {host}")

    async def tls_handshake(self, host: str, *, verify: bool = True, version: ssl.TLSVersion | None = None,
                            port: int = 443) -> TlsInfo:
        ctx = verified_context(self.profile.ca_bundle) if verify else unverified_context(version)
        async with self._slots:
            reader, writer, ip = await self.open(host, port, tls=ctx)
            try:
                sslobj = writer.get_extra_info("ssl_object")
                chain = _peer_chain(sslobj)
                return TlsInfo(version=sslobj.version() or "", cipher=(sslobj.cipher() or ("",))[0],
                               chain_der=chain, ip=ip)
            finally:
                writer.transport.abort()

    # --- HTTP ----------------------------------------------------------------------------------------------------
    async def fetch(self, url: str, *, read_body: bool = True) -> Response:
        """One GET, cached per scan so checks looking at the same page share it."""
        key = (url, read_body)
        fut = self._fetches.get(key)
        if fut is None:
            fut = asyncio.ensure_future(self._fetch(url, read_body))
            self._fetches[key] = fut
        return await asyncio.shield(fut)

    async def _fetch(self, url: str, read_body: bool) -> Response:
        p = self.profile
        try:
            parts = urlsplit(url)
        except ValueError:  # "http://[broken/"
            raise NetError("bad_url", f"cannot fetch {url!r}: not a valid URL", url=url) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NetError("bad_url", f"cannot fetch {url!r}: only http(s) URLs with a host", url=url)
        host = parts.hostname
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise NetError("bad_url", f"bad port in {url!r}", url=url) from None
        target, host_line = request_target(parts), host_header(parts)
        tls = verified_context(p.ca_bundle) if parts.scheme == "https" else None
        started = time.monotonic()
        async with self._slots:
            reader, writer, ip = await self.open(host, port, tls=tls)
            try:
                return await self._exchange(reader, writer, url, host_line, target, ip, port, started, read_body)
            finally:
                writer.transport.abort()

    async def _exchange(self, reader, writer, url, host_header, target, ip, port, started, read_body) -> Response:
        p = self.profile
        conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=p.max_header_bytes)
        request = h11.Request(method="GET", target=target, headers=[
            ("Host", host_header), ("User-Agent", p.user_agent), ("Accept", "*/*"),
            ("Accept-Encoding", "identity"), ("Connection", "close")])
        writer.write(conn.send(request) + conn.send(h11.EndOfMessage()))
        ttfb = None
        head = None
        body = bytearray()
        truncated = False
        # One deadline for the whole request (bytes trickling in one by one cannot extend it) and a shorter
        # silence limit per read. Each read gets its own asyncio.timeout: asyncio.wait_for inside an outer
        # timeout can swallow the outer cancellation on Python 3.11 when a read completes at the same moment.
        deadline = started + p.request_timeout
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise NetError("request_timeout", f"{url} did not finish answering within "
                                       f"{p.request_timeout:g} s", url=url, ip=ip)
                    limit = min(p.read_timeout, remaining)
                    try:
                        async with asyncio.timeout(limit):
                            data = await reader.read(65536)
                    except TimeoutError:
                        if limit < p.read_timeout:
                            raise NetError("request_timeout", f"{url} did not finish answering within "
                                           f"{p.request_timeout:g} s", url=url, ip=ip) from None
                        raise NetError("read_timeout", f"{url} sent nothing for {p.read_timeout:g} s", url=url,
                                       ip=ip) from None
                    except (ssl.SSLError, OSError) as exc:
                        raise NetError("read_error", f"reading {url} failed: {exc}", url=url, ip=ip) from None
                    if ttfb is None and data:
                        ttfb = time.monotonic()
                    conn.receive_data(data)
                elif isinstance(event, h11.Response):
                    head = event
                    if not read_body:
                        break
                elif isinstance(event, h11.InformationalResponse):
                    continue
                elif isinstance(event, h11.Data):
                    body += event.data
                    if len(body) > p.max_body_bytes:
                        del body[p.max_body_bytes:]
                        truncated = True
                        break
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    break
        except h11.RemoteProtocolError as exc:
            raise NetError("bad_http", f"{url} did not answer with valid HTTP: {exc}", url=url, ip=ip) from None
        if head is None:
            raise NetError("bad_http", f"{url} closed without an HTTP response", url=url, ip=ip)
        now = time.monotonic()
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in head.headers]
        encoding = next((v.strip().lower() for k, v in headers if k == "content-encoding"), "")
        body, truncated = _decode(bytes(body), encoding, p.max_body_bytes, truncated)
        return Response(url=url, status=head.status_code, headers=headers, body=body, truncated=truncated,
                        ip=ip, port=port, ttfb_ms=int(((ttfb or now) - started) * 1000),
                        total_ms=int((now - started) * 1000))

    async def follow(self, url: str, *, max_hops: int | None = None) -> RedirectChain:
        """Follow redirects hop by hop; each hop is a fresh guarded fetch. Loops and the hop cap end the walk."""
        cap = self.profile.max_redirects if max_hops is None else max_hops
        chain = RedirectChain(start=url)
        seen = set()
        current = url
        while True:
            if current in seen:
                chain.loop = True
                return chain
            seen.add(current)
            try:
                resp = await self.fetch(current)
            except NetError as exc:
                chain.error = exc
                return chain
            chain.hops.append(resp)
            nxt = resp.location
            if not nxt:
                if 300 <= resp.status < 400 and resp.header("location"):
                    chain.error = NetError("bad_redirect", f"{current} redirects to a malformed URL "
                                                           f"{resp.header('location')[:200]!r}")
                return chain
            if urlsplit(nxt).scheme not in ("http", "https"):
                chain.error = NetError("bad_redirect", f"{current} redirects to a non-HTTP URL {nxt!r}")
                return chain
            if len(chain.hops) > cap:
                chain.too_long = True
                return chain
            current = nxt


def _peer_chain(sslobj) -> list[bytes]:
    """DER certificates the server sent, leaf first, verified or not.

    Python 3.13 exposes SSLObject.get_unverified_chain(); 3.10-3.12 have it on the private _sslobj. Without
    either, only the leaf is available.
    """
    getter = getattr(sslobj, "get_unverified_chain", None) or getattr(sslobj._sslobj, "get_unverified_chain", None)
    if getter is not None:
        chain = []
        for cert in getter() or []:
            chain.append(cert if isinstance(cert, bytes) else cert.public_bytes(ssl._ssl.ENCODING_DER))
        if chain:
            return chain
    leaf = sslobj.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def _decode(body: bytes, encoding: str, cap: int, truncated: bool) -> tuple[bytes, bool]:
    """Undo gzip/deflate (servers may ignore `Accept-Encoding: identity`), never inflating past the cap."""
    if encoding not in ("gzip", "x-gzip", "deflate") or not body:
        return body, truncated
    inflater = zlib.decompressobj(wbits=47 if encoding != "deflate" else 15)  # 47: gzip or zlib header
    try:
        out = inflater.decompress(body, cap)
    except zlib.error:
        return body, truncated
    return out, truncated or bool(inflater.unconsumed_tail)


def _cname_chain(response, qname: str) -> list[str]:
    if response is None:
        return []
    chain = []
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.CNAME:
            for rr in rrset:
                chain.append(rr.target.to_text(omit_final_dot=True).lower())
    return chain


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False
