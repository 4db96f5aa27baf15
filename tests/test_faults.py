"""Faults, each bounded in time (docs/operations.md, "Faults we tested"):

a) PostgreSQL goes away under a running web app (gunicorn in a subprocess, behind a TCP proxy this test stops and
   starts; its backends terminated): requests get a quick friendly 503, then 200 again without restarting the app.
b) Redis (the broker) unavailable: pages render, the scan button says the queue is unavailable, and the recorded scan
   and handover pack are dispatched once it is back (pipeline.redispatch_stalled, documents.redispatch_stalled).
(c, a worker killed mid-PDF, and d, the disk full while writing one, are in apps/reports/tests/test_faults.py.)

The app under test always runs in its own processes (gunicorn, Celery workers); this test's own database connection
is never disturbed, and nothing outside this test's processes and databases is touched.
"""

import os
import threading
import time

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client as DjangoClient
from django.urls import reverse

from apps.checks import pipeline
from apps.checks.models import ScanRun
from apps.clients.models import Hostname
from apps.reports import documents
from apps.reports.models import HandoverPack
from tests.faults import Gunicorn, TcpProxy, free_port, session_cookies, silent_server
from tests.worker import WorkerProcess, database_url_for_tests, wait_for

ON_POSTGRES = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
WEB_APP_NAME = "lr-fault-web"


def _db_url_via(port):
    s = connection.settings_dict
    return (f"postgres://{s.get('USER') or 'postgres'}@127.0.0.1:{port}/{s['NAME']}"
            f"?application_name={WEB_APP_NAME}&connect_timeout=3")


# --- a) PostgreSQL down and back ---------------------------------------------------------------------------------

@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: the fault is a database server going away and "
                                            "coming back (set DATABASE_URL); SQLite is a file, it cannot go down")
def test_postgres_down_gives_a_quick_503_page_and_the_app_recovers_without_a_restart(cast, transactional_db):
    s = connection.settings_dict
    proxy = TcpProxy(int(s.get("PORT") or 5432), s.get("HOST") or "127.0.0.1").start()
    web = Gunicorn({"DATABASE_URL": _db_url_via(proxy.port), "REDIS_URL": ""}).start()
    cookies, _ = session_cookies(DjangoClient(), cast.alice)
    dashboard = reverse("sprints:dashboard")
    try:
        status, _, text, _ = web.request("GET", dashboard, cookies=cookies)
        assert status == 200 and cast.nova.name in text, web.log()

        # 1. The server kills the app's backends (what a restart does to open connections): the health check on the
        #    next request notices the dead connection and opens a new one; nobody sees an error.
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE datname = %s AND application_name = %s", [s["NAME"], WEB_APP_NAME])
            assert cursor.fetchone()[0] >= 1
        for _ in range(4):
            status, _, _, _ = web.request("GET", dashboard, cookies=cookies)
            assert status == 200, web.log()

        # 2. The server is down for a while, with requests running all along.
        seen, stop = [], threading.Event()

        def traffic():
            while not stop.is_set():
                status, _, _, seconds = web.request("GET", dashboard, cookies=cookies, timeout=15)
                seen.append((status, seconds))
                time.sleep(0.05)

        runner = threading.Thread(target=traffic, daemon=True)
        runner.start()
        time.sleep(0.5)
        proxy.stop()
        down_at = time.monotonic()
        during = []
        for _ in range(4):
            during.append(web.request("GET", dashboard, cookies=cookies, timeout=15))
        health = web.request("GET", "/healthz", timeout=15)
        while time.monotonic() - down_at < 3:  # the outage lasts a few seconds
            time.sleep(0.1)
        proxy.start()
        time.sleep(0.5)
        stop.set()
        runner.join(timeout=20)

        for status, headers, text, seconds in during:
            assert status == 503, text[:500]
            assert seconds < 5, f"a request during the outage took {seconds:.1f} s"
            assert headers.get("Retry-After", "").isdigit()
            assert "Back in a moment" in text and "Traceback" not in text
        assert health[0] == 503 and '"unavailable"' in health[2]
        assert {status for status, _ in seen} <= {200, 503}, seen
        assert max(seconds for _, seconds in seen) < 5

        # 3. Back: the very next requests succeed, without restarting gunicorn.
        after = [web.request("GET", dashboard, cookies=cookies) for _ in range(4)]
        assert [a[0] for a in after] == [200] * 4, web.log()
        assert cast.nova.name in after[-1][2]
        assert web.proc.poll() is None
        print(f"observed: outage 503s in {max(d[3] for d in during):.2f} s max; traffic "
              f"{sorted({st for st, _ in seen})} over {len(seen)} requests, slowest {max(t for _, t in seen):.2f} s; "
              f"after: {[a[0] for a in after]}")
    finally:
        web.stop()
        proxy.stop()


def test_a_database_error_in_any_view_is_the_503_page_not_a_500(client, monkeypatch):
    """The same handler, in-process (every database): OperationalError anywhere → 503 page with Retry-After."""
    from django.db import OperationalError

    from apps.core import views

    def broken(request):
        raise OperationalError("connection to server at \"127.0.0.1\", port 5432 failed: Connection refused")

    monkeypatch.setattr(views, "render", lambda *a, **k: broken(None))
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(views.RETRY_AFTER_SECONDS)
    assert b"Back in a moment" in response.content and b"5432" not in response.content


# --- b) Redis (the broker) unavailable -----------------------------------------------------------------------------

@pytest.fixture
def world_state(testworld, settings, tmp_path):
    path = tmp_path / "testworld.json"
    testworld.write_state(path)
    settings.TESTWORLD_STATE_FILE = path
    return path


@pytest.mark.worker
def test_broker_down_pages_render_the_scan_is_recorded_and_runs_once_it_is_back(
        cast, transactional_db, world_state, testworld, settings, tmp_path):
    from apps.checks.tests.test_pipeline import GOOD_HOSTS

    settings.MEDIA_ROOT = str(tmp_path / "media")
    nova = cast.nova
    nova.domain, nova.network_profile = "good.lrtest", "testworld"
    nova.save(update_fields=["domain", "network_profile"])
    Hostname.objects.bulk_create(Hostname(client=nova, name=f"{h}.good.lrtest") for h in GOOD_HOSTS)
    sprint = cast.nova_sprint

    real_redis = os.environ.get("REDIS_URL") and django_settings.REDIS_URL
    proxy = None
    if real_redis:  # the app's broker is the real Redis behind a proxy that this test stops and starts
        from urllib.parse import urlsplit

        url = urlsplit(django_settings.REDIS_URL)
        proxy = TcpProxy(url.port or 6379, url.hostname or "127.0.0.1")
        broker = f"redis://127.0.0.1:{proxy.port}{url.path or '/0'}"
    else:  # embedded defaults: the app is pointed at a Redis port where nothing listens
        broker = f"redis://127.0.0.1:{free_port()}/0"
    env = {"DATABASE_URL": database_url_for_tests(), "REDIS_URL": broker, "MEDIA_ROOT": settings.MEDIA_ROOT,
           "LAUNCHREADY_TESTWORLD_STATE": str(world_state)}
    web = Gunicorn(env).start()
    cookies, csrf = session_cookies(DjangoClient(), cast.alice)
    detail = reverse("sprints:detail", kwargs={"sprint_id": sprint.pk})
    worker = None
    try:
        # Down: pages render; the scan button answers quickly and says what happened.
        for path in (reverse("sprints:dashboard"), detail, reverse("reports:handover", kwargs={"sprint_id": sprint.pk})):
            status, _, _, _ = web.request("GET", path, cookies=cookies)
            assert status == 200, f"{path}\n{web.log()}"
        status, headers, _, seconds = web.request(
            "POST", reverse("checks:run_for_sprint", kwargs={"sprint_id": sprint.pk}), cookies=cookies,
            body={"csrfmiddlewaretoken": csrf})
        assert status == 302 and headers["Location"] == detail, web.log()
        assert seconds < 5, f"the scan button took {seconds:.1f} s with the broker down"
        status, _, page, _ = web.request("GET", detail, cookies=cookies)
        assert status == 200 and "The scan queue is unavailable right now" in page
        assert "recorded" in page
        scan = ScanRun.objects.get(sprint=sprint)
        assert scan.state == ScanRun.QUEUED and scan.failure_reason == "waiting for the queue"
        assert not scan.parts.exclude(started_at=None).exists()

        status, _, _, _ = web.request("POST", reverse("reports:generate", kwargs={"sprint_id": sprint.pk}),
                                      cookies=cookies, body={"csrfmiddlewaretoken": csrf})
        assert status == 302, web.log()
        status, _, page, _ = web.request("GET", reverse("reports:handover", kwargs={"sprint_id": sprint.pk}),
                                         cookies=cookies)
        assert "The report queue is unavailable right now" in page
        pack = HandoverPack.objects.get(sprint=sprint)
        assert not pack.is_ready and not pack.failure

        # Back: beat's sweeps (run here, with short thresholds standing in for their ticks) dispatch what was asked.
        if proxy:
            proxy.start()
        settings.SCAN_PART_UNSTARTED_SECONDS = 1
        settings.PACK_STALLED_SECONDS = 1
        worker = WorkerProcess(queues="scans,reports", concurrency=2,
                               extra_env={"LAUNCHREADY_TESTWORLD_STATE": str(world_state),
                                          "MEDIA_ROOT": settings.MEDIA_ROOT}).start()
        time.sleep(1.1)

        def settled():
            pipeline.redispatch_stalled()
            documents.redispatch_stalled()
            done = ScanRun.objects.filter(pk=scan.pk, state=ScanRun.DONE).first()
            rendered = HandoverPack.objects.filter(pk=pack.pk, generated_at__isnull=False).first()
            return done and rendered and (done, rendered)

        done, rendered = wait_for(settled, timeout=120, interval=1.5, message=f"scan and pack\n{worker.log()}")
        assert done.parts_done == done.parts_total > 0 and done.failure_reason == ""
        assert done.findings.exists() and done.score is not None
        assert rendered.is_ready and rendered.render_attempts >= 1
        print(f"observed: scan button {seconds:.2f} s with the broker down; scan {done.parts_done}/{done.parts_total} "
              f"parts and pack {rendered.label} ({rendered.pages} pages) done after it came back")
        if proxy:  # the running app publishes again by itself once Redis is back, no restart
            status, headers, _, _ = web.request(
                "POST", reverse("checks:run_for_sprint", kwargs={"sprint_id": sprint.pk}), cookies=cookies,
                body={"csrfmiddlewaretoken": csrf})
            assert status == 302 and "/scans/" in headers["Location"], web.log()
    finally:
        if worker:
            worker.stop()
        web.stop()
        if proxy:
            proxy.stop()


def test_a_broker_that_hangs_gives_the_scan_button_a_bounded_answer(cast, transactional_db, settings):
    """Redis takes the connection and never answers (not refused): publishing gives up after its socket timeouts
    and the scan is recorded for the sweep, instead of the request hanging until gunicorn kills the worker."""
    sprint = cast.nova_sprint
    with silent_server() as port:
        web = Gunicorn({"DATABASE_URL": database_url_for_tests(), "REDIS_URL": f"redis://127.0.0.1:{port}/0",
                        "BROKER_TIMEOUT": "1", "BROKER_CONNECT_TIMEOUT": "1",
                        "MEDIA_ROOT": str(settings.MEDIA_ROOT)}).start()
        try:
            cookies, csrf = session_cookies(DjangoClient(), cast.alice)
            detail = reverse("sprints:detail", kwargs={"sprint_id": sprint.pk})
            status, headers, _, seconds = web.request(
                "POST", reverse("checks:run_for_sprint", kwargs={"sprint_id": sprint.pk}), cookies=cookies,
                body={"csrfmiddlewaretoken": csrf}, timeout=60)
            assert status == 302 and headers["Location"] == detail, web.log()
            status, _, page, _ = web.request("GET", detail, cookies=cookies)
            assert status == 200 and "The scan queue is unavailable right now" in page
            scan = ScanRun.objects.get(sprint=sprint)
            assert scan.state == ScanRun.QUEUED and scan.failure_reason == "waiting for the queue"
            print(f"observed: scan button answered in {seconds:.2f} s with a silent broker")
        finally:
            web.stop()
