"""Browser journeys: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against gunicorn + a real
Celery worker, on the pytest test database, with the test world and the fake Stripe.

Select them with `-m e2e`. Screenshots of each journey's key screens land in var/e2e-artifacts/<test>/NN-name.png
(E2E_ARTIFACTS_DIR to change it); a failing journey leaves failure-<page>.png/.html and the server and worker logs.
The web server and the worker live for the tests of this package only: they stop before other tests run, so they
never take tasks meant for another test's worker.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings

from tests.fakestripe import FakeStripe
from tests.worker import WorkerProcess

from .stack import WebServer, collectstatic, stack_env

WEBHOOK_SECRET = "whsec_test_e2e"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS_DIR") or Path(settings.VAR_DIR) / "e2e-artifacts")
ACTION_TIMEOUT_MS = 15_000  # clicks, fills, navigations, expect(): a journey fails rather than hangs
PASSWORD = secrets.token_urlsafe(18)  # built at run time (tests/test_repo_self_scan.py)
WORKER_QUEUES = "default,scans,reports,monitors,monitors.local"  # scans, handover PDFs, billing events, monitoring


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_terminal_summary(terminalreporter):
    ran = [r for r in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
           if "tests/e2e/" in r.nodeid.replace("\\", "/")]
    if ran:
        terminalreporter.write_line(f"e2e screenshots: {ARTIFACTS}/<test>/")


@pytest.fixture(scope="package")
def e2e_stack(django_db_setup, testworld, tmp_path_factory):
    """gunicorn + worker + fake Stripe, started once for the journeys of this package."""
    base = tmp_path_factory.mktemp("e2e")
    state_file = base / "testworld.json"
    testworld.write_state(state_file)
    mail_dir, media_root = base / "mail", base / "media"
    mail_dir.mkdir()
    media_root.mkdir()
    fake = FakeStripe(webhook_secret=WEBHOOK_SECRET).start()
    web = WebServer(base / "gunicorn.log")
    env = stack_env(site_url=web.url, world_state=testworld.state(), world_state_file=state_file,
                    fake_stripe_url=fake.url, webhook_secret=WEBHOOK_SECRET, mail_dir=mail_dir,
                    media_root=media_root)
    fake.webhook_url = web.url + "/billing/webhook/"  # Stripe's webhook endpoint: the server's SITE_URL
    worker = WorkerProcess(queues=WORKER_QUEUES, extra_env=env)
    try:
        collectstatic(env)
        web.start(env)
        worker.start(timeout=60)
        web.wait_ready()
        yield SimpleNamespace(url=web.url, web=web, worker=worker, fake=fake, mail_dir=mail_dir,
                              media_root=media_root, world_state=state_file)
    finally:
        stop_worker(worker)
        web.stop()
        fake.stop()


def stop_worker(worker):
    """Cold shutdown (SIGQUIT): the journeys are over, nothing is worth a warm shutdown's wait for the pool."""
    if worker.proc and worker.proc.poll() is None:
        worker.proc.send_signal(signal.SIGQUIT)
        try:
            worker.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.proc.pid, signal.SIGKILL)
            worker.proc.wait(timeout=5)
    worker.stop()  # closes its log


@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)")
    # Playwright's sync API keeps an event loop in this thread; the journeys' own ORM calls are plain sync code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Journey:
    """Browser pages of one journey (one context per person) and its numbered screenshots."""

    def __init__(self, browser, stack, name):
        self.browser, self.stack = browser, stack
        self.dir = ARTIFACTS / re.sub(r"[^\w.-]+", "_", name)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.pages = {}
        self.count = 0
        self.started = time.monotonic()

    def page(self, who):
        """A fresh browser (own cookies) for one person: 'consultant', 'founder', 'buyer'."""
        from playwright.sync_api import expect

        context = self.browser.new_context(base_url=self.stack.url, viewport={"width": 1280, "height": 900},
                                           accept_downloads=True)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
        expect.set_options(timeout=ACTION_TIMEOUT_MS)
        page = context.new_page()
        self.pages[who] = page
        return page

    def shot(self, page, name, focus=None, *, full_page=False):
        """Save NN-name.png: the viewport (scrolled to `focus`, a locator, when given) or the whole page."""
        self.count += 1
        path = self.dir / f"{self.count:02d}-{name}.png"
        if focus is not None:
            focus.scroll_into_view_if_needed()
        page.screenshot(path=path, full_page=full_page)
        return path

    def download(self, page, click):
        """Click something that downloads a file; returns the saved file's bytes (kept as an artifact)."""
        with page.expect_download(timeout=ACTION_TIMEOUT_MS) as info:
            click()
        download = info.value
        path = self.dir / download.suggested_filename
        download.save_as(path)
        return path.read_bytes()

    def mail_to(self, address, *, timeout=10):
        """The newest email the server wrote (filemail backend) to address."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in sorted(self.stack.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True):
                text = path.read_text(errors="replace")
                if f"To: {address}" in text:
                    return text
            time.sleep(0.1)
        raise AssertionError(f"no email to {address} in {self.stack.mail_dir}")

    def keep_failure(self):
        for who, page in self.pages.items():
            try:
                (self.dir / f"failure-{who}.html").write_text(f"<!-- {page.url} -->\n" + page.content())
                page.screenshot(path=self.dir / f"failure-{who}.png", full_page=True)
            except Exception as exc:  # noqa: BLE001 - keep what can be kept
                (self.dir / f"failure-{who}.txt").write_text(f"{page.url}\n{exc!r}")
        (self.dir / "gunicorn.log").write_text(self.stack.web.log(tail=200_000))
        (self.dir / "worker.log").write_text(self.stack.worker.log_path.read_text(errors="replace")[-200_000:])

    def close(self):
        for page in self.pages.values():
            page.context.close()


@pytest.fixture
def journey(request, browser, e2e_stack, transactional_db):
    """journey.page(who), journey.shot(page, name): the gunicorn server and worker share this test's database."""
    j = Journey(browser, e2e_stack, request.node.name)
    yield j
    report = getattr(request.node, "rep_call", None)
    if report is None or report.failed:
        j.keep_failure()
        print(f"\ne2e failure artifacts: {j.dir}\n--- gunicorn ---\n{e2e_stack.web.log()}\n"
              f"--- worker ---\n{e2e_stack.worker.log()}")
    print(f"\ne2e {request.node.name}: {time.monotonic() - j.started:.1f}s, screenshots in {j.dir}")
    j.close()


def log_in(page, email, password=PASSWORD):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
