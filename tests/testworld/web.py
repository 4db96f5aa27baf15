"""HTTP/HTTPS servers of the test world, plus the misbehaving ones (blackhole, garbage)."""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
from urllib.parse import parse_qs, urlsplit

from . import ownership_sites, perf_endpoints  # noqa: F401 (they register their hosts)
from .sites import GOOD_ASSETS, GOOD_HEADERS, GOOD_HTML, site_for

REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 401: "Unauthorized", 404: "Not Found",
           500: "Internal Server Error"}
HUGE_BYTES = 50 * 1024 * 1024


class WebApp:
    """Routes a request by Host header and path. `counts` records accepted connections per server address."""

    def __init__(self, world):
        self.world = world

    async def handle(self, reader, writer, *, scheme: str, server_ip: str):
        self.world.connections[server_ip] += 1
        # Open connections now and the most ever open at once, per address (the pipeline's politeness tests).
        open_now = self.world.open_connections
        open_now[server_ip] += 1
        self.world.peak_connections[server_ip] = max(self.world.peak_connections[server_ip], open_now[server_ip])
        try:
            await self._handle(reader, writer, scheme=scheme)
        finally:
            open_now[server_ip] -= 1

    async def _handle(self, reader, writer, *, scheme: str):
        try:
            async with asyncio.timeout(10):
                head = await reader.readuntil(b"\r\n\r\n")
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ssl.SSLError):
            writer.close()
            return
        try:
            if perf_endpoints.claims(head):  # keep-alive load-probe endpoints live in perf_endpoints.py
                await perf_endpoints.serve(self.world, head, reader, writer)
            else:
                await self.respond(head.decode("latin-1"), writer, scheme)
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def respond(self, head: str, writer, scheme: str):
        request_line, *lines = head.split("\r\n")
        _method, target, _version = (request_line.split(" ") + ["", ""])[:3]
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines if ln)}
        host = headers.get("host", "").split(":")[0].lower()
        url = urlsplit(target)
        path = url.path or "/"
        site = site_for(host)
        if site is None:
            return await self.send(writer, 404, {"Content-Type": "text/plain"}, "unknown host")
        if site.get("behaviour") == "trickle":
            return await self.trickle(writer)
        if site.get("behaviour") == "huge":
            return await self.huge(writer)
        if scheme == "http":
            mode = site.get("http", "redirect")
            if mode in ("redirect", "temporary"):
                return await self.send(writer, 301 if mode == "redirect" else 302,
                                       {"Location": f"https://{host}{target}"}, "")
        if site.get("redirect_to"):
            keep = target if site.get("keep_path", True) else ""
            return await self.send(writer, 301, self.page_headers(site, {"Location": site["redirect_to"] + keep}), "")
        if path in site.get("redirect_chain", {}):
            return await self.send(writer, 301, {"Location": site["redirect_chain"][path]}, "")
        return await self.route(writer, site, path, parse_qs(url.query))

    def page_headers(self, site: dict, extra=None) -> dict:
        headers = {k: v for k, v in GOOD_HEADERS.items() if k not in site.get("drop", ())}
        headers.update(site.get("headers", {}))
        headers.update(extra or {})
        return headers

    async def route(self, writer, site, path, query):
        assets = site.get("assets", GOOD_ASSETS)
        if path == "/":
            html = site.get("html", GOOD_HTML)
            if site.get("gzip"):  # sent compressed although the scanner asked for identity
                return await self.send(writer, 200, self.page_headers(site, {"Content-Encoding": "gzip"}),
                                       gzip.compress(html.encode()))
            return await self.send(writer, 200, self.page_headers(site), html)
        if path in assets:
            asset_headers, body = assets[path]
            return await self.send(writer, 200, asset_headers, body)
        if path == "/health":
            return await self.send(writer, 200, {"Content-Type": "application/json"}, json.dumps({"ok": True}))
        if path == "/slow":
            await asyncio.sleep(float(query.get("s", ["0.3"])[0]))
            return await self.send(writer, 200, self.page_headers(site), "<p>finally</p>")
        if path == "/private":
            return await self.send(writer, 401, {"WWW-Authenticate": "Basic"}, "login required")
        if path == "/boom":
            return await self.send(writer, 500, {"Content-Type": "text/plain"}, "boom")
        if path == "/redirect":  # an open redirect, for the SSRF suite
            return await self.send(writer, 302, {"Location": query.get("to", ["/"])[0]}, "")
        return await self.send(writer, 404, {"Content-Type": "text/plain"}, "not found")

    async def send(self, writer, status: int, headers: dict, body: str | bytes):
        data = body.encode() if isinstance(body, str) else body
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines += [f"Content-Length: {len(data)}", "Connection: close", "", ""]
        writer.write("\r\n".join(lines).encode("latin-1") + data)
        await writer.drain()

    async def trickle(self, writer):
        payload = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000
        for i in range(len(payload)):
            if writer.is_closing():
                return
            writer.write(payload[i:i + 1])
            await writer.drain()
            await asyncio.sleep(0.05)

    async def huge(self, writer):
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {HUGE_BYTES}\r\n\r\n".encode())
        chunk = b"<p>" + b"a" * 65530 + b"</p>"
        sent = 0
        while sent < HUGE_BYTES and not writer.is_closing():
            writer.write(chunk[: HUGE_BYTES - sent])
            sent += len(chunk)
            await writer.drain()


async def blackhole(reader, writer, *, world, server_ip):
    """Accepts and says nothing: a server that never answers, and a TLS handshake that hangs."""
    world.connections[server_ip] += 1
    try:
        async with asyncio.timeout(60):
            while await reader.read(4096):  # swallow whatever comes until the client gives up
                pass
    except (TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()


async def garbage(reader, writer, *, world, server_ip):
    world.connections[server_ip] += 1
    try:
        await asyncio.wait_for(reader.read(1024), 2)
        writer.write(b"\x00\x17\xffSSH-2.0-OpenSSH_9.6\r\n\x01\x02garbage garbage\r\n")
        await writer.drain()
    except (TimeoutError, ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()
