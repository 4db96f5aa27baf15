"""Monitoring's corner of the test world: an endpoint a test switches between up, down and flapping, and local
Slack/webhook receivers that record what they get and answer what the test tells them to.

    monitor_sites.set_mode("down")          # uptime.lrtest/ping answers 404 from now on
    with Receiver(statuses=[500]) as hook:  # first POST gets 500, later ones 200
        ... hook.url, hook.requests
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import sites, zones

UPTIME_HOST = "uptime.lrtest"
PING_PATH = "/ping"
MODES = ("up", "down", "flapping")


class SwitchableAssets(Mapping):
    """The asset table of uptime.lrtest: /ping is present (200) when up, absent (404) when down, and alternates
    on every request when flapping. The web server asks `path in assets` once per request."""

    def __init__(self):
        self.mode = "up"
        self.requests = 0
        self._serving = True

    def __contains__(self, path):
        if path != PING_PATH:
            return False
        self.requests += 1
        if self.mode == "flapping":
            self._serving = not self._serving
        else:
            self._serving = self.mode == "up"
        return self._serving

    def __getitem__(self, path):
        if path != PING_PATH or not self._serving:
            raise KeyError(path)
        return {"Content-Type": "application/json"}, json.dumps({"ok": True, "service": "uptime"})

    def __iter__(self):
        return iter([PING_PATH])

    def __len__(self):
        return 1


ASSETS = SwitchableAssets()


def set_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    ASSETS.mode = mode


class Receiver:
    """A local HTTP server recording every POST (path, headers, JSON body); answers `statuses` in order, then 200."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def json(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def install() -> None:
    zones.ZONES.setdefault(UPTIME_HOST, {"A": [zones.MAIN], "NS": ["ns1.lrtest."]})
    sites.SITES.setdefault(UPTIME_HOST, {"assets": ASSETS})


install()
