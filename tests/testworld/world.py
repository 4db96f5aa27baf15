"""The test world: DNS, a CA and web servers on loopback, running in a background thread.

    with TestWorld() as world:
        profile = world.profile()          # test profile: allows 127.0.0.0/8 only
        run_scan(Target.build("good.lrtest", ["www"]), profile)
"""

from __future__ import annotations

import asyncio
import functools
import json
import shutil
import socket
import ssl
import tempfile
import threading
import warnings
from collections import Counter
from pathlib import Path

from apps.checks.engine.profile import NetworkProfile

from . import (
    chatbot,
    demo_sites,  # noqa: F401 - merges the demo clients' zones and sites on import
    email_zones,  # noqa: F401 - merges the email corpus into the DNS table and sites on import
    monitor_sites,  # noqa: F401 - the switchable uptime endpoint of the monitoring tests
    zones,
)
from .dns_server import start_dns
from .pki import TestCA
from .sites import cert_variant, valid_cert_names
from .web import WebApp, blackhole, garbage

# Short timeouts so the bad-input cases end quickly; a real profile uses NetworkProfile's defaults.
TEST_TIMEOUTS = dict(dns_timeout=0.5, connect_timeout=0.6, read_timeout=0.6, request_timeout=1.5,
                     check_timeout=5.0, max_body_bytes=1024 * 1024)
DEMO_DOMAINS = ("novachat.lrtest", "orbittutor.lrtest", "good.lrtest", "origin.lrtest", "bare.lrtest", "expired.lrtest", "noredirect.lrtest")


class TestWorld:
    __test__ = False

    def __init__(self, directory: str | Path | None = None):
        self._own_dir = directory is None
        self.dir = Path(directory or tempfile.mkdtemp(prefix="lr-testworld-"))
        self.connections: Counter[str] = Counter()
        self.open_connections: Counter[str] = Counter()  # web servers: connections open right now, per address
        self.peak_connections: Counter[str] = Counter()  # ... and the most open at once (reset it before measuring)
        self.dns = None
        self.dns_port = 0
        self.https_port = 0
        self.http_port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._servers = []

    # --- lifecycle -----------------------------------------------------------------------------------------------
    def start(self) -> TestWorld:
        self.ca = TestCA(self.dir / "pki", valid_cert_names() + chatbot.CERT_NAMES)
        self._contexts = self._server_contexts()
        sockets = self._bind_ports()
        self._thread = threading.Thread(target=self._run, args=(sockets,), name="testworld", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error:
            raise self._error
        return self

    def stop(self):
        if self._loop and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(5)
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _run(self, sockets):
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve(sockets))
        except BaseException as exc:  # surface start-up errors to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        for server in self._servers:
            server.close()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    # --- servers -------------------------------------------------------------------------------------------------
    def _server_contexts(self) -> dict[str, ssl.SSLContext]:
        contexts = {}
        for variant, (cert, key) in self.ca.files.items():
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            if variant == "weakkey":
                ctx.set_ciphers("ALL:@SECLEVEL=0")  # OpenSSL would refuse to load a 1024-bit key otherwise
            ctx.load_cert_chain(cert, key)
            contexts[variant] = ctx
        default = contexts["valid"]

        def pick_certificate(sslobj, server_name, _ctx):
            variant = cert_variant(server_name or "")
            if variant != "valid":
                sslobj.context = contexts[variant]

        default.sni_callback = pick_certificate
        cert, key = self.ca.files["valid"]
        for name, low, high in (("legacy", ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_3),
                                ("ancient", ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            with warnings.catch_warnings():  # serving TLS 1.0/1.1 on purpose
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version, ctx.maximum_version = low, high
            ctx.set_ciphers("ALL:@SECLEVEL=0")
            ctx.load_cert_chain(cert, key)
            contexts[name] = ctx
        return contexts

    def _bind_ports(self) -> dict[tuple[str, str], socket.socket]:
        """One free port for 'https' and one for 'http', free on every served address (parallel runs differ)."""
        for _attempt in range(50):
            bound: dict[tuple[str, str], socket.socket] = {}
            try:
                for kind in ("https", "http"):
                    port = 0
                    for ip in (*zones.SERVED_IPS, chatbot.CHATBOT_IP):
                        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                        s.bind((ip, port))
                        port = s.getsockname()[1]
                        bound[(ip, kind)] = s
                    # the dead address must have nothing on these ports either: bind and release proves it free
                    probe = socket.socket()
                    probe.bind((zones.DEAD, port))
                    probe.close()
                return bound
            except OSError:
                for s in bound.values():
                    s.close()
        raise RuntimeError("no free ports for the test world")

    async def _serve(self, sockets):
        self.dns, self.dns_port = await start_dns()
        app = WebApp(self)
        tls_for_ip = {zones.LEGACY_TLS: self._contexts["legacy"], zones.ANCIENT_TLS: self._contexts["ancient"]}
        for (ip, kind), sock in sockets.items():
            sock.listen(128)
            tls = (tls_for_ip.get(ip, self._contexts["valid"]) if kind == "https" else None)
            if ip == zones.BLACKHOLE:
                handler, tls = functools.partial(blackhole, world=self, server_ip=ip), None
            elif ip == chatbot.CHATBOT_IP:
                handler = functools.partial(chatbot.handle, world=self, server_ip=ip)
            elif ip == zones.GARBAGE:
                handler = functools.partial(garbage, world=self, server_ip=ip)
            else:
                handler = functools.partial(app.handle, scheme=kind, server_ip=ip)
            tls_options = {"ssl": tls, "ssl_handshake_timeout": 5} if tls else {}
            server = await asyncio.start_server(handler, sock=sock, **tls_options)
            self._servers.append(server)
            port = sock.getsockname()[1]
            if kind == "https":
                self.https_port = port
            else:
                self.http_port = port

    # --- what clients need ---------------------------------------------------------------------------------------
    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.dns_port}"

    @property
    def port_map(self) -> str:
        return f"80:{self.http_port},443:{self.https_port}"

    def state(self) -> dict:
        return {"nameservers": [self.nameserver], "port_map": self.port_map, "ca_bundle": str(self.ca.ca_bundle),
                "allowed_networks": ["127.0.0.0/8"], "demo_domains": list(DEMO_DOMAINS)}

    def write_state(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.state(), indent=2))

    def profile(self, *, allowed_networks=("127.0.0.0/8",), **overrides) -> NetworkProfile:
        """The test profile (loopback allowed); allowed_networks=() gives the production guard."""
        options = {**TEST_TIMEOUTS, **overrides}
        return NetworkProfile.from_settings("testworld", nameservers=[self.nameserver], ca_bundle=str(self.ca.ca_bundle),
                                            port_map=self.port_map, allowed_networks=list(allowed_networks), **options)

    def dns_queries(self, name: str, rdtype: str = "A") -> int:
        return self.dns.queries[(name, rdtype)]
