"""Fault-injection helpers: a TCP proxy that can be stopped and started (a server going down and coming back, for
this test's processes only) and the web app under gunicorn in a subprocess (its own connections, its own state)."""

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def silent_server():
    """127.0.0.1:<port> of a server that takes connections (the kernel completes them) and never says a word: a
    hung Stripe, SMTP or Redis. Yields the port."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@contextlib.contextmanager
def resetting_server():
    """127.0.0.1:<port> of a server that reads what it is sent and then resets the connection (RST, not FIN): a
    receiver crashing mid-request or a middlebox cutting it. Yields the port."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)

        def serve():
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:  # the listener was closed: the test is over
                    return
                with conn:
                    conn.settimeout(2)
                    with contextlib.suppress(OSError):
                        conn.recv(65536)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

        threading.Thread(target=serve, daemon=True).start()
        yield listener.getsockname()[1]


def cache_down(settings):
    """Point Django's cache at a Redis port nobody listens on: every cache call raises a connection error.
    (pytest-django's settings fixture sends setting_changed, which makes Django drop its cache connections.)"""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0",
                                   "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}


def send_mail_through(settings, port, *, timeout=None):
    """Django's real SMTP backend, without TLS, to 127.0.0.1:port (a silent_server, or a free_port: refused)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = timeout


class TcpProxy:
    """127.0.0.1:<port> → upstream. stop() closes the listener and every open connection (the server is gone:
    connects are refused, open sockets die); start() listens on the same port again (the server is back)."""

    def __init__(self, upstream_port, upstream_host="127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._listener = None
        self._sockets = set()
        self._lock = threading.Lock()

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self):
        listener, self._listener = self._listener, None
        if listener:
            listener.close()
        with self._lock:
            sockets, self._sockets = list(self._sockets), set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Gunicorn:
    """The WSGI app served by gunicorn in a subprocess: what production runs, with its own database connections."""

    def __init__(self, env, workers=2):
        self.port = free_port()
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "launchready.settings", "LAUNCHREADY_TESTING": "1",
                    **env}
        self.workers = workers
        self.log_path = Path(settings.VAR_DIR) / f"gunicorn-{self.port}.log"
        self.proc = None

    def start(self, timeout=30):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "launchready.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--timeout", "30", "--graceful-timeout", "2", "--no-control-socket",
             "--access-logfile", "-"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log()}")
            try:
                self.request("GET", "/accounts/login/", timeout=2)
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready after {timeout}s:\n{self.log()}")

    def request(self, method, path, *, cookies=None, body=None, timeout=10):
        """(status, headers, text, seconds) of one request, on a fresh connection; cookies (a dict) is sent and
        updated from Set-Cookie like a browser's jar."""
        headers = {"Host": "127.0.0.1"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if body is not None:
            from urllib.parse import urlencode

            body = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            if cookies is not None:  # a browser's cookie jar, enough for Django's session and messages cookies
                from http.cookies import SimpleCookie

                for header in response.headers.get_all("Set-Cookie") or []:
                    for name, morsel in SimpleCookie(header).items():
                        if morsel["max-age"] == "0" or not morsel.value:
                            cookies.pop(name, None)
                        else:
                            cookies[name] = morsel.value
            return response.status, dict(response.getheaders()), text, time.monotonic() - started
        finally:
            conn.close()

    def log(self):
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=5)
        if getattr(self, "_log", None):
            self._log.close()
        self.log_path.unlink(missing_ok=True)


def session_cookies(client, user):
    """Cookies of a logged-in session created through Django's test client (the session row is in the database the
    subprocess reads), plus a CSRF cookie whose value the caller posts back as csrfmiddlewaretoken."""
    client.force_login(user)
    token = "f" * 32
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": token}, token
