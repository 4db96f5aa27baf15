"""A TLS-terminating reverse proxy on loopback, the test world's stand-in for a production load balancer.

    with EdgeProxy(world, upstream=("127.0.0.1", 8123), hostnames=["launchready.lrtest"]) as edge:
        ...  # https://launchready.lrtest/ (the world's DNS says EDGE_IP) reaches the app behind it

It listens on EDGE_IP at the world's HTTPS and HTTP ports (so the world's port map applies unchanged), presents a
certificate from the world's CA for its hostnames (TLS 1.2+ only, like any current load balancer), and forwards each
request to the upstream over plain HTTP with X-Forwarded-Proto (https or http) and X-Forwarded-For (the client's
address) set — replacing whatever the client sent in those headers. The plain-HTTP listener forwards too: redirecting
to HTTPS is the app's job (SECURE_SSL_REDIRECT), which is what the dogfood scan tests.
One request per connection (Connection: close), bodies by Content-Length only, head and body size-capped.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading

from . import zones

EDGE_IP = "127.0.0.30"
MAX_HEAD = 64 * 1024
MAX_BODY = 10 * 1024 * 1024
TIMEOUT = 30
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
              "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "forwarded"}


class EdgeProxy:
    __test__ = False

    def __init__(self, world, upstream: tuple[str, int], hostnames: list[str], ip: str = EDGE_IP):
        self.world, self.upstream, self.hostnames, self.ip = world, upstream, list(hostnames), ip
        self.requests: list[tuple[str, str]] = []  # (scheme, request line), for assertions and failure output
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> EdgeProxy:
        cert, key = self.world.ca.issue("edge-" + self.hostnames[0], self.hostnames)
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.minimum_version = ssl.TLSVersion.TLSv1_2
        self._tls.load_cert_chain(cert, key)
        sockets = {}
        for scheme, port in (("https", self.world.https_port), ("http", self.world.http_port)):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            # a proxy started again on the same address (a module fixture set up twice) finds TIME_WAIT sockets there
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.ip, port))
            sock.listen(128)
            sockets[scheme] = sock
        for name in self.hostnames:
            # a well-kept zone (CAA, NS), so the scan's DNS findings are about the app's setup, not this fixture
            zones.add_zone(name, A=[self.ip], NS=["ns1.lrtest."], CAA=['0 issue "letsencrypt.org"'])
        self._thread = threading.Thread(target=self._run, args=(sockets,), name="edge-proxy", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error:
            raise self._error
        return self

    def stop(self):
        for name in self.hostnames:
            zones.ZONES.pop(name, None)
        if self._loop and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _run(self, sockets):
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        servers = []

        async def serve():
            for scheme, sock in sockets.items():
                tls = {"ssl": self._tls, "ssl_handshake_timeout": 5} if scheme == "https" else {}
                servers.append(await asyncio.start_server(
                    lambda r, w, scheme=scheme: self._handle(r, w, scheme), sock=sock, **tls))

        try:
            self._loop.run_until_complete(serve())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        for server in servers:
            server.close()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _handle(self, reader, writer, scheme):
        upstream_writer = None
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
            if len(head) > MAX_HEAD:
                return await self._reply(writer, 431, "Request Header Fields Too Large")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            headers = [line.split(":", 1) for line in header_lines if ":" in line]
            names = {name.strip().lower(): value.strip() for name, value in headers}
            if "chunked" in names.get("transfer-encoding", "").lower():
                return await self._reply(writer, 411, "Length Required")
            length = int(names.get("content-length") or 0)
            if length > MAX_BODY:
                return await self._reply(writer, 413, "Content Too Large")
            body = await asyncio.wait_for(reader.readexactly(length), TIMEOUT) if length else b""
            self.requests.append((scheme, request_line))
            client_ip = (writer.get_extra_info("peername") or ("",))[0]
            kept = [f"{name.strip()}: {value.strip()}" for name, value in headers
                    if name.strip().lower() not in HOP_BY_HOP]
            forwarded = [request_line, *kept, f"X-Forwarded-Proto: {scheme}", f"X-Forwarded-For: {client_ip}",
                         "Connection: close"]
            upstream_reader, upstream_writer = await asyncio.wait_for(asyncio.open_connection(*self.upstream), 5)
            upstream_writer.write(("\r\n".join(forwarded) + "\r\n\r\n").encode("latin-1") + body)
            await upstream_writer.drain()
            while chunk := await asyncio.wait_for(upstream_reader.read(65536), TIMEOUT):
                writer.write(chunk)
                await writer.drain()
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            if upstream_writer is None:
                await self._reply(writer, 502, "Bad Gateway")
        finally:
            for w in (upstream_writer, writer):
                if w is not None:
                    w.close()

    @staticmethod
    async def _reply(writer, status, reason):
        try:
            writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
        except OSError:
            pass
