import io
import logging
import re
import uuid
from types import SimpleNamespace

import pytest
from django.http import HttpResponse
from django.urls import path

from apps.core import request_id
from apps.core.logs import KeyValueFormatter, RequestIdFilter, mask_secrets
from apps.core.models import WorkerHeartbeat
from apps.core.tasks import heartbeat
from tests.worker import WorkerProcess, wait_for

view_log = logging.getLogger("apps.core.tests.view")


def _logging_view(request):
    view_log.info("inside the view", extra={"user_id": "u-1"})
    return HttpResponse("ok")


def _crashing_view(request):
    raise RuntimeError("the view broke")


# A tiny URLconf for these tests (ROOT_URLCONF points here): the real middleware stack, views that log and crash.
urlpatterns = [path("logs/", _logging_view), path("crash/", _crashing_view)]


@pytest.fixture
def log_output():
    """Everything logged anywhere, formatted exactly as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture
def test_urls(settings):
    settings.ROOT_URLCONF = __name__


def test_every_response_gets_a_new_request_id(client, db):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_sane_incoming_request_id_is_kept(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c21-0001")
    assert response["X-Request-ID"] == "lb-7f3a9c21-0001"


@pytest.mark.parametrize("incoming", ["short", "x" * 129, "has space in it", 'quote"injection1', "new\nline-12345",
                                      "ünïcödé-12345", "a=b;c=d;e=f"])
def test_an_insane_incoming_request_id_is_replaced(client, db, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_redirects_from_early_middleware_carry_the_id_too(client, db):
    response = client.get("/accounts/login")  # CommonMiddleware's APPEND_SLASH redirect
    assert response.status_code == 301 and response["X-Request-ID"]


def test_log_records_during_a_request_carry_its_id(client, test_urls, log_output):
    response = client.get("/logs/", HTTP_X_REQUEST_ID="req-abcdef123456")
    line = next(ln for ln in log_output.getvalue().splitlines() if "inside the view" in ln)
    assert "request_id=req-abcdef123456" in line and "user_id=u-1" in line
    assert line.startswith("ts=") and "level=INFO" in line and "logger=apps.core.tests.view" in line
    assert response["X-Request-ID"] == "req-abcdef123456"
    request_id.current.set("")
    logging.getLogger("after").info("outside any request")
    assert "request_id=- " in log_output.getvalue().splitlines()[-1]


def test_errors_are_logged_with_context_but_without_the_body_or_secrets(client, test_urls, log_output):
    client.raise_request_exception = False
    secret, password = "sk_" + "live_" + uuid.uuid4().hex, uuid.uuid4().hex
    response = client.post("/crash/?token=" + secret, {"password": password, "api_key": secret},
                           HTTP_X_REQUEST_ID="req-crash-000001", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 500
    lines = [ln for ln in log_output.getvalue().splitlines() if "req-crash-000001" in ln]
    error = next(ln for ln in lines if "level=ERROR" in ln)
    assert "method=POST" in error and "path=/crash/" in error and "status_code=500" in error
    assert "RuntimeError" in error and "the view broke" in error
    output = log_output.getvalue()
    assert secret not in output and password not in output and "Bearer" not in output


def test_tokens_in_emailed_link_paths_are_masked(client, db, log_output):
    token = uuid.uuid4().hex
    for link in (f"/accounts/password/reset/MQ/{token}-x/", f"/accounts/invitations/{token}/",
                 f"/accounts/email/confirm/{token}:1abc:sig/"):
        client.get(link, HTTP_X_REQUEST_ID="req-links-000001")
    output = log_output.getvalue()
    assert token not in output
    assert "[redacted]" in output, output  # something was logged about those requests (a 404 at least)
    assert mask_secrets(f"GET /accounts/password/reset/MQ/{token}/") == "GET /accounts/password/reset/MQ/[redacted]/"


def test_mask_secrets_masks_common_token_shapes_and_credentials():
    # Built at run time so the repository's own secret scan (tests/test_repo_self_scan.py) has nothing to flag.
    stripe, db_pass, github = uuid.uuid4().hex, uuid.uuid4().hex[:12], uuid.uuid4().hex + "abcd"
    text = (f"key sk_{'live'}_{stripe} in postgres://app:{db_pass}@db:5432/x, password={db_pass[::-1]}, "
            f"gh{'p'}_{github} AKIA{'IOSFODNN7'}EXAMPLE")
    masked = mask_secrets(text)
    for secret in (stripe, db_pass, db_pass[::-1], github, "IOSFODNN7EXAMPLE"):
        assert secret not in masked
    assert f"sk_live_{stripe[:2]}…[redacted]" in masked and "@db:5432" in masked


# --- Celery -------------------------------------------------------------------------------------------------------
def test_publishing_puts_the_current_id_in_the_headers_and_the_worker_restores_it():
    token = request_id.current.set("req-publish-0001")
    try:
        headers = {}
        request_id._put_request_id_in_headers(headers=headers)
        assert headers == {"request_id": "req-publish-0001"}
    finally:
        request_id.current.reset(token)
    task = SimpleNamespace(request=SimpleNamespace(request_id="req-publish-0001"))
    request_id._restore_request_id(task_id="t1", task=task)
    assert request_id.current.get() == "req-publish-0001"
    request_id._clear_request_id(task_id="t1")
    assert request_id.current.get() == ""


def test_a_task_without_a_request_gets_its_task_id_and_a_forged_one_is_ignored():
    request_id._restore_request_id(task_id="abc", task=SimpleNamespace(request=SimpleNamespace()))
    assert request_id.current.get() == "task-abc"
    request_id._clear_request_id(task_id="abc")
    request_id._restore_request_id(task_id="def", task=SimpleNamespace(request=SimpleNamespace(request_id="a b\nc")))
    assert request_id.current.get() == "task-def"
    request_id._clear_request_id(task_id="def")


@pytest.mark.worker
def test_a_real_worker_logs_the_publishing_request_id(transactional_db):
    worker = WorkerProcess(queues="default").start()
    try:
        token = request_id.current.set(f"req-{uuid.uuid4().hex[:12]}")
        try:
            marker = uuid.uuid4().hex
            heartbeat.delay(marker)
            rid = request_id.current.get()
        finally:
            request_id.current.reset(token)
        wait_for(lambda: WorkerHeartbeat.objects.filter(hostname__startswith=worker.node).exists(),
                 message=f"heartbeat from {worker.node}\n{worker.log()}")
        line = wait_for(lambda: next((ln for ln in worker.log().splitlines() if marker in ln), None),
                        message=f"the task's log line\n{worker.log()}")
        assert f"request_id={rid}" in line and "msg=heartbeat" in line
    finally:
        worker.stop()
