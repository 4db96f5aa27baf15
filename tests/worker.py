"""A real Celery worker process for pipeline tests (eager mode proves nothing about the broker)."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url_for_tests() -> str:
    """The URL of the database the test run is using, so the worker writes where the test reads."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or ""
    auth = f"{user}:{s.get('PASSWORD')}@" if s.get("PASSWORD") else (f"{user}@" if user else "")
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


class WorkerProcess:
    def __init__(self, queues="default,scans,reports,monitors,monitors.local", concurrency=2, extra_env=None,
                 launcher=None):
        # launcher: a script run instead of `python -m celery` (tests/fault_worker.py injects faults, then starts it)
        self.launcher = [str(launcher)] if launcher else ["-m", "celery"]
        self.node = f"test-{uuid.uuid4().hex[:8]}"
        self.queues = queues
        self.concurrency = concurrency
        self.extra_env = extra_env or {}
        self.proc = None
        self.log_path = Path(settings.VAR_DIR) / f"{self.node}.log"

    def start(self, timeout=30):
        purge_queues(self.queues.split(","))
        env = {**os.environ, "DATABASE_URL": database_url_for_tests(), "DJANGO_SETTINGS_MODULE": "launchready.settings",
               "LAUNCHREADY_TESTING": "1", **self.extra_env}
        if settings.CELERY_BROKER_URL:
            env.setdefault("REDIS_URL", os.environ.get("REDIS_URL", ""))
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, *self.launcher, "-A", "launchready", "worker", "-n", f"{self.node}@%h",
             "-Q", self.queues, "-c", str(self.concurrency), "--without-mingle", "--without-gossip",
             "--without-heartbeat", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            if b" ready." in self.log_path.read_bytes():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.log()}")

    def log(self):
        return self.log_path.read_text(errors="replace")[-4000:]

    def kill_all(self):
        """SIGKILL the worker and its pool children at once, as a crashed machine would: no chance to requeue."""
        import signal

        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()

    def stop(self, kill=False):
        if self.proc and self.proc.poll() is None:
            (self.proc.kill if kill else self.proc.terminate)()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if getattr(self, "_log", None):
            self._log.close()


def purge_queues(queues):
    """Drop messages left in the test broker by earlier runs (killed workers, re-dispatched parts)."""
    from launchready.celery import app

    with app.connection_for_write() as conn:
        channel = conn.default_channel
        for queue in queues:
            try:
                channel.queue_purge(queue)
            except Exception:  # noqa: BLE001 - a queue that was never declared has nothing to purge
                pass


def wait_for(predicate, timeout=20, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
