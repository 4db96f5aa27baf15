"""Dogfood: Launch Ready, served the way production serves it, passes its own stage 1-3 scan.

gunicorn runs the app in a subprocess with production settings (DEBUG off, SECRET_KEY and the rest from the
environment, the manifest static storage after collectstatic) behind the test world's TLS-terminating edge proxy
(tests/testworld/proxy.py), at a hostname the world's DNS resolves to loopback with a certificate from the world's CA.
Then the product's own engine scans it with the "testworld" network profile (read from the state file, the way the
product reads it): every http.* and tls.* check must pass, and the findings are printed when one does not.
The web process uses the test run's database (SQLite file or PostgreSQL), so a login through the edge works too.
"""

import http.client
import json
import os
import secrets
import socket
import ssl
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from apps.checks.engine import Target, run_scan
from apps.checks.profiles import get_profile
from tests.testworld.proxy import EDGE_IP, EdgeProxy
from tests.worker import database_url_for_tests

ROOT = Path(__file__).resolve().parent.parent
HOST = "launchready.lrtest"
STAGES_1_TO_3 = ["audit.", "deploy.", "dns.", "tls.", "http.", "edge."]


def production_env(var_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "LAUNCHREADY_", "DJANGO_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "launchready.settings",
        "DEBUG": "0",  # not "unset": a developer's .env never overrides the environment
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "SITE_URL": f"https://{HOST}",
        "TRUSTED_PROXY_COUNT": "1",
        "MONITORING_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "LAUNCHREADY_VAR_DIR": str(var_dir),
        "DATABASE_URL": database_url_for_tests(),
        **extra,
    })
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, env: dict, log_path: Path):
        self.env, self.log_path, self.port = env, log_path, _free_port()

    def start(self, timeout=60):
        collect = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT,
                                 env=self.env, capture_output=True, text=True, timeout=300)
        assert collect.returncode == 0, collect.stdout + collect.stderr
        self._log = open(self.log_path, "wb")
        # the Procfile's web command, on loopback
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "launchready.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "2", "--no-control-socket", "--access-logfile", "-"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz", headers={"Host": HOST})
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not answering after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self):
        if getattr(self, "proc", None) is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


@pytest.fixture(scope="module")
def production(testworld, django_db_setup, django_db_blocker, tmp_path_factory):
    """gunicorn with production settings behind the edge proxy; yields (gunicorn, edge)."""
    var_dir = tmp_path_factory.mktemp("dogfood-var")
    with django_db_blocker.unblock():
        env = production_env(var_dir)
    server = Gunicorn(env, var_dir / "gunicorn.log")
    try:
        server.start()
        with EdgeProxy(testworld, ("127.0.0.1", server.port), [HOST]) as edge:
            yield server, edge
    finally:
        server.stop()


def _report(result, server, edge) -> str:
    rows = [f"{f.status:7} {f.check:24} {f.target}: {f.summary}\n        evidence: {json.dumps(f.evidence)[:600]}"
            for f in result.findings]
    requests = "\n".join(f"{scheme} {line}" for scheme, line in edge.requests[-40:])
    return "\n".join(rows) + f"\n--- edge requests ---\n{requests}\n--- gunicorn log ---\n{server.log()}"


def test_the_app_in_production_passes_its_own_stage_1_to_3_scan(production, testworld, settings, tmp_path):
    server, edge = production
    testworld.write_state(tmp_path / "testworld.json")
    settings.TESTWORLD_STATE_FILE = tmp_path / "testworld.json"
    target = Target.build(HOST, endpoints=[("homepage", f"https://{HOST}/"),
                                           ("login", f"https://{HOST}/accounts/login/"),
                                           ("health", f"https://{HOST}/healthz")])
    result = run_scan(target, get_profile("testworld"), only=STAGES_1_TO_3)
    report = _report(result, server, edge)
    print(report)
    checked = {f.check for f in result.findings}
    # the scan really reached the app through the edge, over both listeners
    assert {"tls.certificate", "tls.protocols", "http.https_redirect", "http.hsts", "http.security_headers",
            "http.mixed_content"} <= checked, report
    assert {scheme for scheme, _ in edge.requests} == {"http", "https"}, report
    bad = [f for f in result.findings if f.check.startswith(("http.", "tls.")) and f.status in ("fail", "warn")]
    assert not bad, "http.*/tls.* findings that are not clean:\n" + report
    errors = [f for f in result.findings if f.check.startswith(("http.", "tls.")) and f.status == "error"]
    assert not errors, "http.*/tls.* checks that could not decide:\n" + report
    assert all(f.status == "pass" for f in result.findings if f.check.startswith(("http.", "tls."))
               and f.check != "http.canonical"), report


# --- the same deployment, by hand: what a browser sees -------------------------------------------------------------
def _request(testworld, method, path, *, scheme="https", headers=None, body=b"") -> http.client.HTTPResponse:
    port = testworld.https_port if scheme == "https" else testworld.http_port
    sock = socket.create_connection((EDGE_IP, port), timeout=10)
    if scheme == "https":
        ctx = ssl.create_default_context(cafile=str(testworld.ca.ca_bundle))
        sock = ctx.wrap_socket(sock, server_hostname=HOST)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Connection: close", f"Content-Length: {len(body)}",
             *(f"{k}: {v}" for k, v in (headers or {}).items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    response = http.client.HTTPResponse(sock)
    response.begin()
    response.body = response.read()
    sock.close()
    return response


def _cookies(response) -> SimpleCookie:
    jar = SimpleCookie()
    for value in response.headers.get_all("Set-Cookie") or []:
        jar.load(value)
    return jar


@pytest.mark.django_db(transaction=True)
def test_a_browser_logs_in_through_the_edge_with_secure_cookies_and_the_policy(production, testworld):
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from apps.tenants.models import Membership, User, Workspace
    from conftest import PASSWORD

    user = User.objects.create_user("owner@dogfood.test", name="Dog Food")
    # the production hasher: the test settings' fast MD5 hasher is not among production's PASSWORD_HASHERS
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    user.save()
    Membership.objects.create(user=user, workspace=Workspace.objects.create(name="Dogfood", slug="dogfood"),
                              role="owner")

    plain = _request(testworld, "GET", "/accounts/login/?next=/", scheme="http")
    assert plain.status == 301 and plain.getheader("Location") == f"https://{HOST}/accounts/login/?next=/"

    page = _request(testworld, "GET", "/accounts/login/")
    assert page.status == 200
    assert page.getheader("Strict-Transport-Security") == "max-age=31536000; includeSubDomains"
    assert "script-src 'self'" in page.getheader("Content-Security-Policy")
    assert page.getheader("X-Request-ID")
    csrf = _cookies(page)["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"

    form = urlencode({"username": user.email, "password": PASSWORD, "csrfmiddlewaretoken": csrf.value}).encode()
    login = _request(testworld, "POST", "/accounts/login/", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf.value}",
        "Origin": f"https://{HOST}", "Referer": f"https://{HOST}/accounts/login/"})
    assert login.status == 302, login.body[:2000]
    session = _cookies(login)["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"

    dashboard = _request(testworld, "GET", "/", headers={"Cookie": f"sessionid={session.value}"})
    assert dashboard.status == 302 and dashboard.getheader("Location") == reverse("sprints:dashboard")
    dashboard = _request(testworld, "GET", reverse("sprints:dashboard"), headers={"Cookie": f"sessionid={session.value}"})
    assert dashboard.status == 200 and b"Dog Food" in dashboard.body  # the nav shows who is logged in
    # hashed, compressed static files from the manifest, cached for a year
    css = dashboard.body.decode().split('href="/static/css/app.')[1].split('"')[0]
    asset = _request(testworld, "GET", f"/static/css/app.{css}")
    assert asset.status == 200 and "max-age=315360000" in asset.getheader("Cache-Control")
