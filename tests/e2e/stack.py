"""The app as it runs in production, for browser journeys: gunicorn (real HTTP) and a Celery worker (real broker),
both on the pytest test database, with the test world as their internet and the fake Stripe as their Stripe."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.worker import ROOT, database_url_for_tests


def stack_env(*, site_url: str, world_state: dict, world_state_file: Path, fake_stripe_url: str,
              webhook_secret: str, mail_dir: Path, media_root: Path) -> dict:
    """Environment shared by the web server and the worker.

    The "internet" profile (clients created through the UI) and the "testworld" profile (self-serve scans) both
    point at the test world, so nothing a journey starts can reach the real internet."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "launchready.settings",
        "LAUNCHREADY_TESTING": "1",
        "DEBUG": "0",  # production mode (a local .env may say DEBUG=1)
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database_url_for_tests(),
        "SITE_URL": site_url,
        "LAUNCHREADY_TESTWORLD_STATE": str(world_state_file),
        "LAUNCHREADY_NAMESERVERS": ",".join(world_state["nameservers"]),
        "LAUNCHREADY_CA_BUNDLE": world_state["ca_bundle"],
        "LAUNCHREADY_PORT_MAP": world_state["port_map"],
        "LAUNCHREADY_ALLOWED_NETWORKS": ",".join(world_state["allowed_networks"]),
        "SELF_SERVE_PROFILE": "testworld",
        "STRIPE_SECRET_KEY": "sk_test_e2e",
        "STRIPE_API_BASE": fake_stripe_url,
        "STRIPE_WEBHOOK_SECRET": webhook_secret,
        "EMAIL_URL": f"filemail:///{mail_dir}",  # filemail:////abs/path: every email is a file the test reads
        "MEDIA_ROOT": str(media_root),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the test process only (Playwright's loop), not the app
    return env  # REDIS_URL (CI) comes from os.environ, as for tests.worker.WorkerProcess


def collectstatic(env: dict) -> None:
    """WhiteNoise serves STATIC_ROOT when DEBUG is off (htmx included), as in the Docker image."""
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                   check=True, timeout=120, capture_output=True)


class WebServer:
    """gunicorn on a socket bound here (fd://), so SITE_URL is known before it starts and no port can be lost."""

    def __init__(self, log_path: Path, workers: int = 2):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.workers = workers
        self.log_path = log_path
        self.proc = None

    def start(self, env: dict) -> WebServer:
        """Start gunicorn without waiting (the worker can start meanwhile); wait_ready() waits."""
        fd = self.sock.fileno()
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "launchready.wsgi", "--bind", f"fd://{fd}",
             "--workers", str(self.workers), "--no-control-socket", "--timeout", "60", "--graceful-timeout", "3",
             "--access-logfile", "-"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, pass_fds=(fd,), start_new_session=True,
        )
        return self

    def wait_ready(self, timeout: float = 30) -> WebServer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn not answering after {timeout}s:\n{self.log()}")

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.sock.close()
        if getattr(self, "_log", None):
            self._log.close()
