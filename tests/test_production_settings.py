"""Production settings, loaded in a fresh process the way gunicorn would (DEBUG off, not under pytest)."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent


def _production_env(tmp_path, **overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "LAUNCHREADY_TESTING"))}
    env.update({
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "app.launchready.example",
        "MONITORING_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "LAUNCHREADY_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "launchready.settings",
    })
    env.update(overrides)
    return env


def _run(args, env):
    return subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_about_what_only_we_know_is_missing(tmp_path):
    env = _production_env(tmp_path, MONITORING_ENCRYPTION_KEYS="", CONTENT_SECURITY_POLICY="")
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "launchready.W001" in result.stderr + result.stdout and "launchready.W002" in result.stderr + result.stdout


def test_production_sends_a_content_security_policy(tmp_path):
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.CONTENT_SECURITY_POLICY); print('apps.core.csp.ContentSecurityPolicyMiddleware' in s.MIDDLEWARE)")
    result = _run(["-c", code], _production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    policy, installed = result.stdout.strip().splitlines()[-2:]
    assert installed == "True" and "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_the_app_refuses_to_start_with_debug_off_and_no_secret_key(tmp_path):
    # SECRET_KEY="" (not unset) so a developer's .env cannot fill it in (it never overwrites the environment).
    result = _run(["manage.py", "check"], _production_env(tmp_path, SECRET_KEY=""))
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_wsgi_app_refuses_to_load_without_a_secret_key(tmp_path):
    result = _run(["-c", "import launchready.wsgi"], _production_env(tmp_path, SECRET_KEY=""))
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr


def test_session_and_csrf_cookies_are_secure_httponly_and_samesite_in_production(tmp_path):
    code = ("import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({"
            "n: getattr(s, n) for n in ['SESSION_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE',"
            "'CSRF_COOKIE_SECURE', 'CSRF_COOKIE_SAMESITE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'DEBUG']}))")
    result = _run(["-c", code], _production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {"SESSION_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": True, "SESSION_COOKIE_SAMESITE": "Lax",
                      "CSRF_COOKIE_SECURE": True, "CSRF_COOKIE_SAMESITE": "Lax", "SECURE_SSL_REDIRECT": True,
                      "SECURE_HSTS_SECONDS": 31536000, "DEBUG": False}


def test_the_session_cookie_a_login_sets_is_httponly_and_samesite(cast, client):
    response = client.post("/accounts/login/", {"username": "alice@acme.test", "password": cast.password})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
