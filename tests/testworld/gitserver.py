"""A git host for the test world: serves bare repositories over HTTPS with git's "dumb" HTTP protocol.

Static files only (after `git update-server-info`), so no git process runs server-side. It listens on its own
port on 127.0.0.1 with the test world's valid certificate (which names 127.0.0.1), so clone URLs look like
`https://127.0.0.1:PORT/NAME.git`. Every request is recorded, and paths are confined to the served directory.
"""

from __future__ import annotations

import functools
import ssl
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args, server_root: str, requests: list, redirect_to: str | None, **kwargs):
        self.requests = requests
        self.redirect_to = redirect_to
        super().__init__(*args, directory=server_root, **kwargs)

    def do_GET(self):
        self.requests.append(self.path)
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args):  # keep test output quiet
        pass


class GitServer:
    __test__ = False

    def __init__(self, root: Path, cert: Path, key: Path, *, redirect_to: str | None = None):
        self.root = Path(root)
        self.requests: list[str] = []
        handler = functools.partial(_Handler, server_root=str(self.root), requests=self.requests,
                                    redirect_to=redirect_to)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="gitserver", daemon=True)

    def publish(self, source_repo: Path, name: str) -> str:
        """Copy a repository as a bare one under the root and return its clone URL."""
        bare = self.root / f"{name}.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(source_repo), str(bare)], check=True, capture_output=True)
        subprocess.run(["git", "--git-dir", str(bare), "update-server-info"], check=True, capture_output=True)
        return self.url(name)

    def url(self, name: str) -> str:
        return f"https://127.0.0.1:{self.port}/{name}.git"

    def __enter__(self) -> GitServer:
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)
