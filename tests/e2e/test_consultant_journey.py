"""A consultant's sprint, end to end in a real browser: sign up, client and inventory, sprint, a live scan,
a checklist override, the go/no-go and an issued handover pack rendered by the worker."""

import re
import time

import pytest
from playwright.sync_api import expect

from apps.checks.models import ScanRun
from apps.reports.models import HandoverPack
from apps.sprints.models import Sprint

from .conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

SCAN_TIMEOUT_S = 90
PDF_TIMEOUT_S = 60
PROGRESS = re.compile(r"(\d+) of (\d+) parts · (\d+) finding")


def add_inventory_row(page, button, fields, selects=()):
    page.get_by_role("button", name=button).click()  # links styled as buttons (role="button")
    for label, value in fields:
        page.get_by_label(label, exact=False).first.fill(value)
    for label, value in selects:
        page.get_by_label(label, exact=False).first.select_option(value)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("Added")


def watch_scan(page, timeout_s, on_first_findings):
    """Read the live panel until the scan is done, without reloading; returns the distinct progress lines seen.
    on_first_findings(page) runs once, when findings are on screen while the scan still runs."""
    panel = page.locator("#scan-panel")
    seen, called = [], False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        row = panel.locator(".progress-row small")
        line = row.inner_text() if row.count() else ""
        if line and (not seen or seen[-1] != line):
            seen.append(line)
        if panel.locator(".badge-done, .badge-failed").count():
            return seen
        if not called and panel.locator(".finding-feed li").count():
            on_first_findings(page)
            called = True
        time.sleep(0.1)
    raise AssertionError(f"the scan did not finish in {timeout_s}s; progress seen: {seen}")


def test_consultant_runs_a_sprint_from_sign_up_to_issued_handover_pack(journey):
    page = journey.page("consultant")

    # Sign up: a new workspace.
    page.goto("/")
    page.get_by_role("main").get_by_role("button", name="Start a workspace").click()
    page.get_by_label("Your name").fill("Dana Consultant")
    page.get_by_label("Email").fill("dana@launchpartners.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Workspace name").fill("Launch Partners")
    journey.shot(page, "sign-up")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_role("status")).to_contain_text("Your workspace is ready")
    expect(page.get_by_role("heading", name="Running sprints")).to_be_visible()

    # A client with hostnames and endpoints.
    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_role("button", name="New client").click()
    page.get_by_label("Name").fill("NovaChat")
    page.get_by_label("Domain").fill("novachat.lrtest")
    page.get_by_label("Notes").fill("Founder prefers Slack.")
    page.get_by_role("button", name="Create client").click()
    expect(page.get_by_role("heading", name="NovaChat", level=1)).to_be_visible()
    for host, role in [("www.novachat.lrtest", "www"), ("app.novachat.lrtest", "app"),
                       ("api.novachat.lrtest", "api")]:
        add_inventory_row(page, "Add hostname", [("Hostname", host)], [("Role", role)])
    # The slow route (the test world answers it after 2 s) keeps the scan running long enough to watch it fill in,
    # as on a real site; the scan reports it as over its latency budget.
    for kind, url in [("homepage", "https://novachat.lrtest/"), ("health", "https://api.novachat.lrtest/health"),
                      ("other", "https://app.novachat.lrtest/slow?s=2")]:
        add_inventory_row(page, "Add endpoint", [("URL", url)], [("Kind", kind)])
    hostnames = page.locator("#hostnames")
    expect(hostnames.get_by_role("row")).to_have_count(4)  # header + 3
    expect(page.locator("#endpoints")).to_contain_text("https://api.novachat.lrtest/health")
    journey.shot(page, "client-with-inventory")

    # A sprint from the dashboard.
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("listitem").filter(has_text="NovaChat").get_by_role("link", name="start a sprint").click()
    expect(page.get_by_role("heading", name="Start a sprint for NovaChat")).to_be_visible()
    page.get_by_role("button", name="Start the sprint").click()
    expect(page.get_by_role("status")).to_contain_text("Sprint started for NovaChat")
    expect(page.locator(".sprint-item").first).to_be_visible()
    journey.shot(page, "sprint-started")

    # A scan, watched live: htmx polls the panel; the page itself is never reloaded.
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "/progress/" in r.url else None)
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="Run scan").click()
    expect(page.get_by_role("button", name="Scan running…")).to_be_disabled()
    seen = watch_scan(page, SCAN_TIMEOUT_S, lambda p: journey.shot(p, "scan-findings-arriving", p.locator("#scan-panel")))
    expect(page.locator("#scan-panel .badge-done")).to_have_text("Done")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    assert len(polls) >= 2, polls
    # Findings arrived while the scan was still running: a line with some, but not all, parts done.
    partial = [line for line in seen if (m := PROGRESS.match(line)) and 0 < int(m[1]) < int(m[2]) and int(m[3])]
    assert partial, f"no findings were seen while the scan ran: {seen}"
    print(f"live scan panel: {seen}")
    scan = ScanRun.objects.get()
    assert scan.state == ScanRun.DONE and scan.findings.count() > 0
    expect(page.locator("#scan-panel")).to_contain_text(f"Score {scan.score}")
    expect(page.locator("#scan-panel .finding-feed li")).to_have_count(min(12, scan.findings.count()))
    journey.shot(page, "scan-done", page.locator("#scan-panel"))

    # Override a checklist item the scan decided, with a reason (htmx swaps the row in place).
    page.reload()
    item = page.locator(".sprint-item").filter(has=page.locator(".scan-says .badge-fail")).first
    item_id = item.get_attribute("id")
    title = item.locator(".item-title").inner_text()
    item.get_by_role("link", name="Edit").click()
    form = page.locator(f"form#{item_id}")
    form.get_by_role("combobox", name=re.compile(r"^Status")).select_option("pass")
    form.get_by_role("button", name="Save").click()
    expect(form.locator(".field-error")).to_contain_text("give a reason")
    reason = "Fixed by hand after the scan; verified in the browser."
    form.get_by_label("Override reason").fill(reason)
    journey.shot(page, "override-form", form)
    form.get_by_role("button", name="Save").click()
    row = page.locator(f"div#{item_id}")
    expect(row.locator(".scan-says")).to_contain_text(f"overridden: {reason}")
    expect(row.locator(".badge-pass").first).to_be_visible()
    journey.shot(page, "item-overridden", row)
    sprint = Sprint.objects.get()
    overridden = sprint.items.get(title=title)
    assert overridden.status == "pass" and overridden.override_reason == reason

    # Go / no-go.
    decision = page.locator("article.decision")
    decision.get_by_label("Decision").select_option("go")
    decision.get_by_label("Rationale").fill("Blockers fixed; the docs CNAME is accepted for launch week.")
    decision.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("status")).to_contain_text("Decision recorded: GO")
    expect(page.locator("article.decision blockquote")).to_contain_text("Blockers fixed")
    journey.shot(page, "decision-recorded", page.locator("article.decision"))

    # The handover pack: a draft rendered by the worker (reports queue), then issued and rendered again.
    page.get_by_role("link", name="Preview, generate and issue the handover pack").click()
    page.get_by_role("button", name="Generate a new version").click()
    expect(page.get_by_role("status")).to_contain_text("Generating handover pack v1")
    versions = page.locator("section.handover-versions")
    wait_for_download_link(page, versions, "v1")
    journey.shot(page, "draft-rendered")
    issue = page.locator("section.handover-issue")
    issue.get_by_label("Override reason").fill("Monitoring moves to the client's Datadog next week.")
    issue.get_by_role("button", name="Issue v1").click()
    expect(page.get_by_role("status")).to_contain_text("Issued v1")
    wait_for_download_link(page, versions, "v1", issued=True)
    journey.shot(page, "pack-issued")
    pdf = journey.download(page, lambda: versions.get_by_role("link", name="Download PDF").click())
    assert pdf.startswith(b"%PDF-")
    pack = HandoverPack.objects.get()
    assert pack.state == HandoverPack.ISSUED and pack.is_ready and pack.pages >= 1


def wait_for_download_link(page, versions, label, *, issued=False, timeout_s=PDF_TIMEOUT_S):
    """The handover page does not poll: reload until the worker has rendered the PDF."""
    deadline = time.monotonic() + timeout_s
    row = versions.get_by_role("row").filter(has_text=re.compile(rf"^\s*{label}\b"))
    while time.monotonic() < deadline:
        ready = row.get_by_role("link", name="Download PDF")
        if ready.count() and (not issued or row.get_by_text("Issued", exact=False).count()):
            return
        if row.locator(".badge-error").count():
            raise AssertionError(f"rendering failed: {row.inner_text()}")
        time.sleep(0.5)
        page.reload()
    raise AssertionError(f"{label} not rendered in {timeout_s}s: {versions.inner_text()}")
