"""Load the demo workspace. Idempotent: running it twice changes nothing and duplicates nothing."""

from datetime import date, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

DEMO_PASSWORD = "launch-ready-demo"
OWNER_EMAIL = "owner@demo.launchready.test"
CONSULTANT_EMAIL = "consultant@demo.launchready.test"
FOUNDER_EMAIL = "founder@novachat.lrtest"
WORKSPACE_SLUG = "northstar"
# The TXT record the test world publishes at novachat.lrtest (tests/testworld/demo_sites.py): NovaChat is verified
# for active checks after one "Verify now".
NOVACHAT_VERIFY_TOKEN = "novachat-demo-verify-2f8c1a9e4b7d"

# Demo clients live in the test world's zones (manage.py testworld), scanned through the "testworld" profile.
CLIENTS = [
    {
        "name": "NovaChat",
        "domain": "novachat.lrtest",
        "verification_token": NOVACHAT_VERIFY_TOKEN,
        "hostnames": [("novachat.lrtest", "apex"), ("www.novachat.lrtest", "www"), ("app.novachat.lrtest", "app"),
                      ("api.novachat.lrtest", "api"), ("docs.novachat.lrtest", "docs")],
        "endpoints": [("homepage", "https://novachat.lrtest/", "GET", ""),
                      ("login", "https://app.novachat.lrtest/login", "GET", ""),
                      ("health", "https://api.novachat.lrtest/health", "GET", "")],
        "spf": ["_spf.sender-esp.lrtest"], "dkim": ["google"],
        "env": [("DATABASE_URL", ["staging", "production"], "Render environment", True, True),
                ("OPENAI_API_KEY", ["staging", "production"], "Render environment", True, True),
                ("STRIPE_SECRET_KEY", ["production"], "Render environment", True, True),
                ("SENTRY_DSN", ["production"], "Render environment", False, False),
                ("NEXT_PUBLIC_APP_URL", ["development", "staging", "production"], "Vercel project", True, False)],
        "vendors": [("Render", "API hosting", "Maya Chen", "ops@novachat.lrtest", True, "Maya Chen"),
                    ("Vercel", "Frontend hosting", "Maya Chen", "ops@novachat.lrtest", True, "Maya Chen"),
                    ("OpenAI", "Chat model", "Sam Patel", "sam@novachat.lrtest", False, "Maya Chen"),
                    ("Cloudflare", "DNS and CDN", "Maya Chen", "ops@novachat.lrtest", True, "Maya Chen")],
        "deploy": ["Merge to main; CI runs tests and builds the image",
                   "Render deploys the API automatically from main",
                   "Run database migrations: render jobs run 'npm run migrate'",
                   "Smoke test: curl https://api.novachat.lrtest/health"],
        "rollback": ["Render dashboard → API service → Deploys → Roll back to the previous deploy",
                     "Vercel → Deployments → Promote the previous deployment",
                     "Confirm /health answers 200 and post in #launch"],
        "owners": [("DNS and domains", "Maya Chen"), ("Billing and Stripe", "Maya Chen"),
                   ("On-call and alerts", "Sam Patel"), ("AI model and prompts", "Sam Patel")],
    },
    {
        "name": "Orbit Tutor",
        "domain": "orbittutor.lrtest",
        "hostnames": [("orbittutor.lrtest", "apex"), ("www.orbittutor.lrtest", "www"),
                      ("app.orbittutor.lrtest", "app")],
        "endpoints": [("homepage", "https://orbittutor.lrtest/", "GET", ""),
                      ("login", "https://app.orbittutor.lrtest/login", "GET", ""),
                      ("health", "https://app.orbittutor.lrtest/health", "GET", "")],
        "spf": [], "dkim": ["s1"],
        "env": [("DATABASE_URL", ["production"], "Fly.io secrets", True, True),
                ("ANTHROPIC_API_KEY", ["production"], "Fly.io secrets", True, True)],
        "vendors": [("Fly.io", "Hosting", "Leo Park", "leo@orbittutor.lrtest", True, "Leo Park")],
        "deploy": ["fly deploy from main"],
        "rollback": ["fly releases; fly deploy --image <previous image>"],
        "owners": [("Everything", "Leo Park")],
    },
]


class Command(BaseCommand):
    help = "Load the demo workspace (idempotent): a consultancy, two clients, a founder and two sprints."

    def add_arguments(self, parser):
        parser.add_argument("--no-scan", action="store_true", help="Do not scan the demo clients.")

    def handle(self, *args, **options):
        with transaction.atomic():
            created = self.load()
        verb = "Loaded" if created else "Demo already loaded;"
        self.stdout.write(self.style.SUCCESS(f"{verb} demo workspace “Northstar Launch Partners”."))
        if not options["no_scan"]:
            self.scan_demo_clients()
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write(f"  owner       {OWNER_EMAIL}")
        self.stdout.write(f"  consultant  {CONSULTANT_EMAIL}")
        self.stdout.write(f"  founder     {FOUNDER_EMAIL}  (sees NovaChat only)")
        self.stdout.write(f"  admin       {OWNER_EMAIL} is also staff: {settings.SITE_URL}/admin/")

    def scan_demo_clients(self):
        """Give each demo sprint one real scan of the test world (once), so a new user sees real findings."""
        from apps.checks import pipeline
        from apps.checks.models import ScanRun
        from apps.sprints.models import Sprint

        if not settings.TESTWORLD_STATE_FILE.exists():
            self.stdout.write("The test world is not running, so the demo clients were not scanned "
                              "(start it with `python manage.py testworld`, then run `python manage.py demo`).")
            return
        owner = _user_model().objects.get(email=OWNER_EMAIL)
        self.verify_demo_clients()
        for sprint in Sprint.objects.filter(client__workspace__slug=WORKSPACE_SLUG).select_related("client"):
            if ScanRun.objects.filter(sprint=sprint, state=ScanRun.DONE).exists():
                continue
            scan = pipeline.run_scan_inline(client=sprint.client, sprint=sprint, requested_by=owner)
            self.stdout.write(f"Scanned {sprint.client.domain}: score {scan.score} ({scan.grade}), "
                              f"{scan.decision.upper()}, {scan.findings.count()} findings")
        self.issue_handover_pack(owner)

    def issue_handover_pack(self, owner):
        """The handed-over sprint gets an issued handover pack (once), rendered here rather than by a worker."""
        from apps.reports.demo import issue_demo_pack
        from apps.sprints.models import Sprint

        sprint = Sprint.objects.filter(client__workspace__slug=WORKSPACE_SLUG, status=Sprint.HANDED_OVER).first()
        pack = issue_demo_pack(sprint, owner) if sprint else None
        if pack:
            self.stdout.write(f"Issued the handover pack {pack.label} of {sprint.client.name} ({pack.pages} pages).")

    def verify_demo_clients(self):
        """NovaChat's TXT record is in the test world: one verification unlocks its active checks in the demo."""
        from apps.clients.models import Client

        for client in Client.objects.filter(workspace__slug=WORKSPACE_SLUG, ownership_verified_at=None,
                                            verification_token=NOVACHAT_VERIFY_TOKEN):
            result = client.verify_ownership()
            self.stdout.write(f"Ownership of {client.domain}: {result.reason}")

    def load(self) -> bool:
        from apps.checklists.models import ChecklistTemplate
        from apps.clients.models import (
            Client,
            EmailSetup,
            Endpoint,
            EnvVar,
            Hostname,
            Owner,
            RunbookStep,
            VendorAccount,
        )
        from apps.sprints.models import Sprint
        from apps.tenants.models import ClientAccess, Membership, User, Workspace

        if Workspace.objects.filter(slug=WORKSPACE_SLUG).exists():
            return False
        owner = _user(User, OWNER_EMAIL, "Olivia Hart", staff=True)
        consultant = _user(User, CONSULTANT_EMAIL, "Diego Ramos")
        founder = _user(User, FOUNDER_EMAIL, "Maya Chen")
        workspace = Workspace.objects.create(
            name="Northstar Launch Partners", slug=WORKSPACE_SLUG, primary_colour="#0f766e",
            accent_colour="#f97316", footer_text="Northstar Launch Partners · launch week without surprises",
        )
        Membership.objects.create(user=owner, workspace=workspace, role="owner")
        Membership.objects.create(user=consultant, workspace=workspace, role="consultant")
        ChecklistTemplate.default()

        clients = []
        for spec in CLIENTS:
            client = Client.objects.create(workspace=workspace, name=spec["name"], domain=spec["domain"],
                                           network_profile="testworld", created_by=owner,
                                           verification_token=spec.get("verification_token", ""),
                                           notes="Demo client. Founder is responsive on Slack.")
            Hostname.objects.bulk_create(Hostname(client=client, name=n, role=r) for n, r in spec["hostnames"])
            Endpoint.objects.bulk_create(Endpoint(client=client, kind=k, url=u, method=m, request_template=t)
                                         for k, u, m, t in spec["endpoints"])
            EmailSetup.objects.create(client=client, approved_spf_senders=spec["spf"], dkim_selectors=spec["dkim"])
            rotation = date.today() + timedelta(days=30)
            EnvVar.objects.bulk_create(
                EnvVar(client=client, name=n, environments=e, where_stored=w, required=r, secret=s,
                       rotation_due=rotation if s else None) for n, e, w, r, s in spec["env"])
            VendorAccount.objects.bulk_create(
                VendorAccount(client=client, vendor=v, purpose=p, owner=o, login_identity=i, two_factor=t,
                              billing_owner=b) for v, p, o, i, t, b in spec["vendors"])
            RunbookStep.objects.bulk_create(
                [RunbookStep(client=client, kind="deploy", position=i, text=t)
                 for i, t in enumerate(spec["deploy"], 1)]
                + [RunbookStep(client=client, kind="rollback", position=i, text=t,
                               last_tested=date.today() - timedelta(days=3) if i == 1 else None)
                   for i, t in enumerate(spec["rollback"], 1)])
            Owner.objects.bulk_create(Owner(client=client, area=a, person=p) for a, p in spec["owners"])
            clients.append(client)
        nova, orbit = clients
        ClientAccess.objects.create(user=founder, client=nova)

        now = timezone.now()
        active = Sprint.start(client=nova, created_by=owner, status=Sprint.ACTIVE,
                              title="Launch readiness sprint", starts_at=now - timedelta(hours=14),
                              due_at=now + timedelta(hours=34))
        _progress(active, consultant, done_stages={1}, partial_stage=2)
        handed = Sprint.start(client=orbit, created_by=owner, status=Sprint.ACTIVE,
                              title="Launch readiness sprint", starts_at=now - timedelta(days=12),
                              due_at=now - timedelta(days=10))
        _progress(handed, owner, done_stages={1, 2, 3, 4, 5, 6, 7}, partial_stage=None)
        handed.record_decision(Sprint.GO, "All blockers fixed; rollback tested on day 2. Launch approved.", owner)
        handed.change_status(Sprint.HANDED_OVER, owner)
        return True


def _user_model():
    from django.contrib.auth import get_user_model

    return get_user_model()


def _user(User, email, name, staff=False):
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, name=name, is_staff=staff, is_superuser=staff)
    return user


def _progress(sprint, actor, *, done_stages, partial_stage):
    """Mark the demo checklist: whole stages passed, one stage half done."""
    now = timezone.now()
    items = list(sprint.items.all())
    for item in items:
        if item.stage_number in done_stages:
            item.status = "pass"
        elif item.stage_number == partial_stage and item.position % 2 == 1:
            item.status = "pass" if item.position != 3 else "fail"
        else:
            continue
        item.evidence_text = "Checked during the sprint." if not item.check_id else f"Automated check {item.check_id}."
        item.updated_by = actor
        item.updated_at = now
        item.save()
    sprint.log(actor, "updated the checklist")
