"""A founder, end to end in a real browser: invited by email, follows only their client's sprint and findings,
edits a vendor account they own and downloads the issued handover pack."""

import hashlib
import re

import pytest
from playwright.sync_api import expect

from apps.checks import pipeline
from apps.checks.models import ScanRun
from apps.clients.models import Client, Hostname, VendorAccount
from apps.reports import tasks as report_tasks
from apps.reports.handover import complete
from apps.reports.models import HandoverPack
from apps.sprints.models import Sprint
from apps.tenants.models import ClientAccess, User, Workspace
from tests.worker import wait_for

from .conftest import PASSWORD, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

FOUNDER_EMAIL = "maya@novachat.test"


@pytest.fixture
def consultancy(journey):
    """What the consultant did before (the consultant journey covers it in the browser): two clients with
    sprints, NovaChat scanned by the worker and its handover pack issued and rendered by the worker."""
    owner = User.objects.create_user("olivia@northstar.test", PASSWORD, name="Olivia Hart")
    workspace = Workspace.create_with_owner(name="Northstar Launch Partners", owner=owner)
    nova = Client.objects.create(workspace=workspace, name="NovaChat", domain="novachat.lrtest",
                                 notes="Private: founder is slow to answer.", created_by=owner)
    Hostname.objects.bulk_create(Hostname(client=nova, name=f"{h}.novachat.lrtest", role=h) for h in ("www", "app"))
    VendorAccount.objects.create(client=nova, vendor="OpenAI", purpose="Chat model", owner="Sam Patel",
                                 two_factor=False)
    orbit = Client.objects.create(workspace=workspace, name="Orbit Tutor", domain="orbittutor.lrtest",
                                  created_by=owner)
    sprint = Sprint.start(client=nova, created_by=owner, status=Sprint.ACTIVE)
    orbit_sprint = Sprint.start(client=orbit, created_by=owner, status=Sprint.ACTIVE)
    worker = journey.stack.worker
    scan = pipeline.start_scan(client=nova, sprint=sprint, requested_by=owner)
    wait_for(lambda: ScanRun.objects.filter(pk=scan.pk, state=ScanRun.DONE).exists(), timeout=90,
             message=f"the seed scan to finish\n{worker.log()}")
    pack = HandoverPack.request_for(sprint, owner)
    pack.issue(owner, [gap.summary for gap in complete(sprint)], "Monitoring is set up after handover.")
    report_tasks.generate_handover_pack.delay(str(pack.pk))
    wait_for(lambda: HandoverPack.objects.get(pk=pack.pk).is_ready, timeout=60,
             message=f"the pack to be rendered\n{worker.log()}")
    return {"owner": owner, "nova": nova, "orbit_sprint": orbit_sprint, "sprint": sprint, "pack": pack}


def test_founder_follows_their_sprint_edits_a_vendor_account_and_downloads_the_pack(journey, consultancy):
    # The consultant invites the founder from the client page.
    consultant = journey.page("consultant")
    log_in(consultant, "olivia@northstar.test")
    consultant.get_by_role("link", name="Clients", exact=True).click()
    consultant.get_by_role("link", name="NovaChat").click()
    consultant.get_by_role("button", name="Invite a founder").click()
    consultant.get_by_label("Founder's email").fill(FOUNDER_EMAIL)
    consultant.get_by_role("button", name="Send invitation").click()
    expect(consultant.get_by_role("status")).to_contain_text(f"Invitation sent to {FOUNDER_EMAIL}")
    journey.shot(consultant, "consultant-invited-founder")

    # The founder opens the emailed link (built from SITE_URL: the server's address) and creates an account.
    email = journey.mail_to(FOUNDER_EMAIL)
    link = re.search(rf"{re.escape(journey.stack.url)}/accounts/invitations/[^\s/]+/", email)
    assert link, email
    founder = journey.page("founder")
    founder.goto(link.group(0))
    expect(founder.get_by_role("heading", name="Follow NovaChat's launch sprint")).to_be_visible()
    founder.get_by_label("Your name").fill("Maya Chen")
    founder.get_by_label("Password").fill(PASSWORD)
    journey.shot(founder, "invitation")
    founder.get_by_role("button", name="Create account and accept").click()
    expect(founder.get_by_role("status")).to_contain_text("You can now follow NovaChat's launch sprint")
    assert ClientAccess.objects.filter(user__email=FOUNDER_EMAIL, client=consultancy["nova"]).exists()

    # The portal: this client's sprint progress by stage, nothing of the other client.
    expect(founder.get_by_role("heading", name="NovaChat", level=1)).to_be_visible()
    expect(founder.locator("details.stage").first).to_contain_text("1. Quick audit")
    expect(founder.get_by_label("Overall progress")).to_be_visible()
    assert "Orbit Tutor" not in founder.content()
    journey.shot(founder, "portal")

    # The sprint page: progress and the latest scan's findings, read-only.
    founder.get_by_role("link", name=consultancy["sprint"].title).click()
    scan = ScanRun.objects.get(sprint=consultancy["sprint"])
    panel = founder.locator("#scan-panel")
    expect(panel).to_contain_text(f"Score {scan.score}")
    expect(panel.locator(".finding-feed li")).to_have_count(min(12, scan.findings.count()))
    expect(founder.get_by_role("button", name="Run scan")).to_have_count(0)
    expect(founder.locator(".edit-link")).to_have_count(0)
    html = founder.content()
    assert "Orbit Tutor" not in html and "Private: founder is slow" not in html
    journey.shot(founder, "sprint-findings", panel)
    denied = founder.goto(f"/sprints/{consultancy['orbit_sprint'].pk}/")
    assert denied.status == 404
    founder.go_back()

    # The founder owns the vendor accounts: edits one on the client page.
    founder.get_by_role("link", name="Portal").click()
    founder.get_by_role("link", name="Vendor accounts, env var names and runbooks").click()
    vendors = founder.locator("#vendor-accounts")
    expect(vendors).to_contain_text("OpenAI")
    assert "Private: founder is slow" not in founder.content()
    vendors.get_by_role("row").filter(has_text="OpenAI").get_by_role("link", name="Edit").click()
    founder.get_by_label("Owner", exact=False).first.fill("Maya Chen")
    founder.get_by_label("2FA on").check()
    journey.shot(founder, "vendor-account-form")
    founder.get_by_role("button", name="Save").click()
    expect(founder.get_by_role("status")).to_contain_text("Saved vendor account OpenAI")
    row = founder.locator("#vendor-accounts").get_by_role("row").filter(has_text="OpenAI")
    expect(row).to_contain_text("Maya Chen")
    expect(row).to_contain_text("✓ on")
    journey.shot(founder, "vendor-account-saved", founder.locator("#vendor-accounts"))
    account = VendorAccount.objects.get(vendor="OpenAI")
    assert account.owner == "Maya Chen" and account.two_factor is True

    # The issued handover pack, from the portal.
    founder.get_by_role("link", name="Your launch").click()
    download = founder.get_by_role("link", name=re.compile(r"Download the handover pack v1"))
    journey.shot(founder, "portal-handover-pack", download)
    pdf = journey.download(founder, download.click)
    assert pdf.startswith(b"%PDF-")
    assert hashlib.sha256(pdf).hexdigest() == HandoverPack.objects.get(pk=consultancy["pack"].pk).sha256
