"""The web pages at scale: a seeded PostgreSQL of a busy product, five pages under load through gunicorn (SPEC.md §7).

    python benchmarks/web_at_scale.py                 # 30 s per page (the figure we quote)
    python benchmarks/web_at_scale.py --seconds 5     # a quick run (or WEB_AT_SCALE_SECONDS=5)
    python benchmarks/web_at_scale.py --reseed        # drop and seed the database again

Database: DATABASE_URL's server with its own database, default postgres://postgres@127.0.0.1:5432/lr_bench_scale
(BENCH_DATABASE_URL overrides). It is created, migrated and seeded on first use, then kept: reruns start at once.
Seeding is server-side bulk INSERT … SELECT over generate_series (no ORM row by row; about a minute):
200 workspaces, 5,000 clients (25 each, a founder each), 20,000 sprints (4 per client: one active, one handed
over, two closed; 43 checklist items each, the done ones with evidence, a link and who updated them when, as
worked items have), 200,000 client scans with 10 findings each (2,000,000 Finding rows),
200 self-serve score orders with their scans, one monitor per client with 48 hour and 90 day roll-ups, activity (mostly by the consultant).

Then gunicorn (2 workers, or WEB_CONCURRENCY as the Procfile reads it; --no-control-socket, DEBUG=0, production
settings; the load tool sends X-Forwarded-Proto: https as the TLS-terminating proxy would) serves each page to wrk
(Debian's, closed loop, 20 connections, one thread) for the duration, rotating over 50 different users/objects per
page: the consultant dashboard, a client page, a sprint page, the founder portal, a self-serve score page, and a
trivial page (50 workspace names through a template) measured in the same run for comparison.
Logged-in pages use sessions written directly into the session store. Every URL is checked once to answer 200
with its content before the load starts (a redirect to the login page would otherwise look fast), then fetched
once more one request at a time: "alone p50" is a page's latency without queueing behind 19 other connections.

Last line: `web_at_scale rows=… worst_page=… worst_p95_ms=… trivial_p95_ms=… ratio=…` (more keys follow).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    sys.path[0] = str(ROOT)  # the repo root, not benchmarks/ (its email.py would shadow the stdlib's email)

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/lr_bench_scale"
WORKSPACES, CLIENTS, SPRINTS_PER_CLIENT, SCANS_PER_SPRINT, FINDINGS_PER_SCAN = 200, 5000, 4, 10, 10
HOUR_ROLLUPS, DAY_ROLLUPS, ACTIVITY_PER_SPRINT = 48, 90, 5
ROTATE = 50  # distinct users/objects per page
CONNECTIONS = 20
WORKERS = os.environ.get("WEB_CONCURRENCY", "2")  # gunicorn's workers, as the Procfile's web process reads them
SEED_MARK = "web_at_scale v2"  # v2: worked items (owner, evidence, who/when) and activity actors


def bench_database_url() -> str:
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgres"):
        return base.rsplit("/", 1)[0] + "/lr_bench_scale"
    return DEFAULT_DB


# --- deterministic ids (the benchmark computes URLs without asking the database) --------------------------------
def uid(kind: str, n: int) -> str:
    import hashlib
    import uuid

    return str(uuid.UUID(hashlib.md5(f"{kind}{n}".encode()).hexdigest()))


def sql_uid(kind: str, expr: str) -> str:
    return f"md5('{kind}' || ({expr})::text)::uuid"


def score_token(w: int) -> str:
    return f"benchscoretoken-{w:05d}-" + "x" * 24  # ≥ 32 characters, as get_score_by_token wants


SEED_SQL = [
    # workspaces, consultants (one owner each), founders (one per client)
    f"""INSERT INTO tenants_workspace (id, created_at, name, slug, logo, primary_colour, accent_colour, footer_text)
        SELECT {sql_uid('ws', 'w')}, now() - interval '300 days', 'Consultancy ' || lpad(w::text, 3, '0'),
               'bench-ws-' || w, '', '#1d4ed8', '#f59e0b', ''
        FROM generate_series(0, {WORKSPACES - 1}) w""",
    f"""INSERT INTO tenants_user (password, is_superuser, email, name, is_staff, is_active, date_joined)
        SELECT '!unusable', false, 'consultant' || w || '@bench.invalid', 'Consultant ' || w, false, true, now()
        FROM generate_series(0, {WORKSPACES - 1}) w
        UNION ALL
        SELECT '!unusable', false, 'founder' || c || '@bench.invalid', 'Founder ' || c, false, true, now()
        FROM generate_series(0, {CLIENTS - 1}) c""",
    f"""INSERT INTO tenants_membership (role, created_at, user_id, workspace_id)
        SELECT 'owner', now(), u.id, {sql_uid('ws', 'w')}
        FROM generate_series(0, {WORKSPACES - 1}) w JOIN tenants_user u ON u.email = 'consultant' || w || '@bench.invalid'""",
    # clients: client c belongs to workspace c % WORKSPACES
    f"""INSERT INTO clients_client (id, created_at, name, domain, notes, network_profile, workspace_id,
            ownership_method, ownership_result, repo_upload, repo_upload_name, repo_url, verification_token,
            ai_may_supply_system_message)
        SELECT {sql_uid('cl', 'c')}, now() - interval '200 days', 'Client ' || lpad(c::text, 4, '0'),
               'client' || c || '.example.com', 'notes', 'internet', {sql_uid('ws', f'c % {WORKSPACES}')},
               '', '{{}}', '', '', '', md5('tok' || c), false
        FROM generate_series(0, {CLIENTS - 1}) c""",
    f"""INSERT INTO clients_emailsetup (approved_spf_senders, dkim_selectors, client_id)
        SELECT '[]', '[]', {sql_uid('cl', 'c')} FROM generate_series(0, {CLIENTS - 1}) c""",
    f"""INSERT INTO tenants_clientaccess (created_at, client_id, user_id)
        SELECT now(), {sql_uid('cl', 'c')}, u.id
        FROM generate_series(0, {CLIENTS - 1}) c JOIN tenants_user u ON u.email = 'founder' || c || '@bench.invalid'""",
    f"""INSERT INTO clients_hostname (id, created_at, client_id, name, role)
        SELECT md5('h' || c || r)::uuid, now(), {sql_uid('cl', 'c')}, r || '.client' || c || '.example.com', r
        FROM generate_series(0, {CLIENTS - 1}) c, unnest(array['www', 'app', 'api']) r""",
    # sprints: sprint s is of client s % CLIENTS; generation k = s / CLIENTS (0, 1 closed; 2 handed over; 3 active)
    f"""INSERT INTO sprints_sprint (id, created_at, title, starts_at, due_at, status, decision, decision_rationale,
            client_id, template_id, handed_over_at)
        SELECT {sql_uid('sp', 's')}, now() - make_interval(days => (3 - s / {CLIENTS}) * 30),
               'Launch readiness sprint ' || (s / {CLIENTS} + 1),
               now() - make_interval(days => (3 - s / {CLIENTS}) * 30, mins => s % 1440),
               now() - make_interval(days => (3 - s / {CLIENTS}) * 30, mins => s % 1440) + interval '48 hours',
               (array['closed', 'closed', 'handed_over', 'active'])[s / {CLIENTS} + 1],
               CASE WHEN s / {CLIENTS} < 3 THEN 'go' ELSE '' END, '',
               {sql_uid('cl', f's % {CLIENTS}')}, :template,
               CASE WHEN s / {CLIENTS} = 2 THEN now() - interval '20 days' END
        FROM generate_series(0, {CLIENTS * SPRINTS_PER_CLIENT - 1}) s""",
    f"""INSERT INTO checklists_sprintitem (id, created_at, stage_number, stage_name, position, title, guidance,
            check_id, severity, status, evidence_text, evidence_link, owner, sprint_id, override_reason,
            scan_status, scan_summary, updated_by_id, updated_at)
        SELECT md5('si' || s || '-' || ti.id)::uuid, now(), st.number, st.name, ti.position, ti.title, ti.guidance,
               ti.check_id, ti.severity,
               CASE WHEN done THEN 'pass' ELSE 'todo' END,
               CASE WHEN done THEN 'Checked on ' || st.name || E'.\nSee the linked run.' ELSE '' END,
               CASE WHEN done THEN 'https://ci.example.com/runs/' || s || '/' || ti.position ELSE '' END,
               u.name, {sql_uid('sp', 's')}, '', '', '',
               CASE WHEN done THEN u.id END,
               CASE WHEN done THEN now() - make_interval(days => (3 - s / {CLIENTS}) * 30, mins => ti.position) END
        FROM generate_series(0, {CLIENTS * SPRINTS_PER_CLIENT - 1}) s
        CROSS JOIN checklists_templateitem ti JOIN checklists_templatestage st ON st.id = ti.stage_id
        JOIN tenants_user u ON u.email = 'consultant' || (s % {CLIENTS} % {WORKSPACES}) || '@bench.invalid'
        CROSS JOIN LATERAL (SELECT s / {CLIENTS} < 3 OR (s + ti.position) % 3 = 0 AS done) d
        WHERE st.template_id = :template""",
    f"""INSERT INTO sprints_activityentry (text, created_at, client_id, sprint_id, actor_id)
        SELECT 'changed an item (' || a || ')', now() - make_interval(hours => a), {sql_uid('cl', f's % {CLIENTS}')},
               {sql_uid('sp', 's')}, CASE WHEN a % 4 <> 0 THEN u.id END
        FROM generate_series(0, {CLIENTS * SPRINTS_PER_CLIENT - 1}) s
        CROSS JOIN generate_series(1, {ACTIVITY_PER_SPRINT}) a
        JOIN tenants_user u ON u.email = 'consultant' || (s % {CLIENTS} % {WORKSPACES}) || '@bench.invalid'""",
    # scans: scan j is of sprint j % SPRINTS (so of client j % CLIENTS), done, newer for larger j
    f"""INSERT INTO checks_scanrun (id, created_at, profile, domain, target, options, state, parts_total, parts_done,
            started_at, finished_at, score, grade, decision, blockers, failure_reason, client_id, sprint_id)
        SELECT {sql_uid('sc', 'j')}, now() - make_interval(secs => {CLIENTS * SPRINTS_PER_CLIENT * SCANS_PER_SPRINT} - j),
               'internet', 'client' || (j % {CLIENTS}) || '.example.com', '{{}}', '{{}}', 'done', 20, 20,
               now() - make_interval(secs => {CLIENTS * SPRINTS_PER_CLIENT * SCANS_PER_SPRINT} - j + 60),
               now() - make_interval(secs => {CLIENTS * SPRINTS_PER_CLIENT * SCANS_PER_SPRINT} - j),
               60 + j % 40, 'B', 'go', j % 3, '', {sql_uid('cl', f'j % {CLIENTS}')},
               {sql_uid('sp', f'j % {CLIENTS * SPRINTS_PER_CLIENT}')}
        FROM generate_series(0, {CLIENTS * SPRINTS_PER_CLIENT * SCANS_PER_SPRINT - 1}) j""",
    # self-serve scans (no client) and their paid orders, one per workspace
    f"""INSERT INTO checks_scanrun (id, created_at, profile, domain, target, options, state, parts_total, parts_done,
            started_at, finished_at, score, grade, decision, blockers, failure_reason)
        SELECT {sql_uid('ss', 'w')}, now() - interval '1 day', 'internet', 'lead' || w || '.example.com', '{{}}',
               '{{}}', 'done', 20, 20, now() - interval '1 day', now() - interval '1 day', 72, 'C', 'no-go', 1, ''
        FROM generate_series(0, {WORKSPACES - 1}) w""",
    f"""INSERT INTO billing_scoreorder (id, created_at, domain, email, amount, currency, checkout_session_id,
            payment_intent_id, state, access_token, paid_at, failure_reason, scan_id, scan_attempts, workspace_id)
        SELECT {sql_uid('so', 'w')}, now() - interval '1 day', 'lead' || w || '.example.com',
               'buyer' || w || '@bench.invalid', 4900, 'eur', 'cs_bench_' || w, 'pi_bench_' || w, 'done',
               'benchscoretoken-' || lpad(w::text, 5, '0') || '-' || repeat('x', 24), now() - interval '1 day', '',
               {sql_uid('ss', 'w')}, 1, {sql_uid('ws', 'w')}
        FROM generate_series(0, {WORKSPACES - 1}) w""",
    # findings: FINDINGS_PER_SCAN per scan (client scans and self-serve scans)
    f"""INSERT INTO checks_finding (check_id, target, status, severity, summary, evidence, remediation, duration_ms,
            created_at, scan_id, ordinal)
        SELECT (:checks)[k + 1], 'client' || (j % {CLIENTS}) || '.example.com',
               (array['pass', 'pass', 'pass', 'warn', 'fail', 'pass', 'pass', 'skipped', 'pass', 'pass'])[(j + k) % 10 + 1],
               (array['blocker', 'high', 'medium', 'low', 'info'])[k % 5 + 1],
               'Finding ' || k || ' of scan ' || j, '{{"seen": true}}', 'Fix it.', 10 + k,
               now() - make_interval(secs => {CLIENTS * SPRINTS_PER_CLIENT * SCANS_PER_SPRINT} - j), {sql_uid('sc', 'j')}, 0
        FROM generate_series(0, {CLIENTS * SPRINTS_PER_CLIENT * SCANS_PER_SPRINT - 1}) j,
             generate_series(0, {FINDINGS_PER_SCAN - 1}) k""",
    f"""INSERT INTO checks_finding (check_id, target, status, severity, summary, evidence, remediation, duration_ms,
            created_at, scan_id, ordinal)
        SELECT (:checks)[k + 1], 'lead' || w || '.example.com',
               (array['pass', 'fail', 'pass', 'warn', 'fail', 'pass', 'pass', 'skipped', 'pass', 'pass'])[k + 1],
               (array['blocker', 'high', 'medium', 'low', 'info'])[k % 5 + 1],
               'Finding ' || k, '{{}}', 'Fix it.', 10 + k, now() - interval '1 day', {sql_uid('ss', 'w')}, 0
        FROM generate_series(0, {WORKSPACES - 1}) w, generate_series(0, {FINDINGS_PER_SCAN - 1}) k""",
    # monitors and their roll-ups
    f"""INSERT INTO monitoring_monitor (id, created_at, name, url, interval_seconds, timeout_seconds,
            expected_status, keyword, json_field, enabled, paused, next_due, state, last_checked_at,
            last_latency_ms, client_id)
        SELECT {sql_uid('mo', 'c')}, now() - interval '100 days', 'Homepage', 'https://client' || c || '.example.com/',
               60, 10, 200, '', '', true, false, now() + interval '1 hour', 'up', now(), 120, {sql_uid('cl', 'c')}
        FROM generate_series(0, {CLIENTS - 1}) c""",
    f"""INSERT INTO monitoring_rollup (period, start, probes, failures, p50_ms, p95_ms, monitor_id)
        SELECT 'hour', date_trunc('hour', now()) - make_interval(hours => h), 60, (c + h) % 7 / 6, 110, 240,
               {sql_uid('mo', 'c')}
        FROM generate_series(0, {CLIENTS - 1}) c, generate_series(1, {HOUR_ROLLUPS}) h
        UNION ALL
        SELECT 'day', date_trunc('day', now()) - make_interval(days => d), 1440, (c + d) % 5, 115, 260,
               {sql_uid('mo', 'c')}
        FROM generate_series(0, {CLIENTS - 1}) c, generate_series(1, {DAY_ROLLUPS}) d""",
]
TABLES = ["tenants_workspace", "tenants_user", "clients_client", "sprints_sprint", "checklists_sprintitem",
          "checks_scanrun", "checks_finding", "monitoring_monitor", "monitoring_rollup", "sprints_activityentry"]


def run(cmd, env, **kw):
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, **kw)


def django_env(db_url: str) -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=db_url, DEBUG="0", SECRET_KEY=env.get("SECRET_KEY") or "bench-" + "k" * 50,
               ALLOWED_HOSTS="127.0.0.1,localhost", DJANGO_SETTINGS_MODULE="launchready.settings",
               LAUNCHREADY_TESTING="0", PYTHONPATH=str(ROOT))
    # Redis only when asked (BENCH_REDIS_URL): the pages measured here use neither the cache nor the broker.
    env.pop("REDIS_URL", None)
    if env.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = env["BENCH_REDIS_URL"]
    return env


def seeded(conn) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_seed_mark') IS NOT NULL")
        if not cur.fetchone()[0]:
            return False
        cur.execute("SELECT mark FROM bench_seed_mark")
        row = cur.fetchone()
        return bool(row and row[0] == SEED_MARK)


def ensure_database(db_url: str, reseed: bool, env: dict) -> None:
    import psycopg

    name = db_url.rsplit("/", 1)[1]
    admin_url = db_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not reseed:
            with psycopg.connect(db_url) as conn:
                if seeded(conn):
                    print(f"database {name}: seeded already (--reseed to start again)", flush=True)
                    run([sys.executable, "manage.py", "migrate", "-v0"], env)  # new indexes land on the kept data
                    return
        if exists:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    started = time.monotonic()
    run([sys.executable, "manage.py", "migrate", "-v0"], env)
    # The system roadmap template, made through the product's own code (43 items in 7 stages).
    run([sys.executable, "-c", "import django; django.setup(); from apps.checklists.models import ChecklistTemplate; "
         "ChecklistTemplate.default()"], env)
    with psycopg.connect(db_url) as conn:
        template = conn.execute("SELECT id FROM checklists_checklisttemplate WHERE workspace_id IS NULL").fetchone()[0]
        checks = [r[0] for r in conn.execute(
            "SELECT DISTINCT check_id FROM checklists_templateitem WHERE check_id <> '' ORDER BY 1 LIMIT %s",
            [FINDINGS_PER_SCAN])]
        checks += [f"bench.check{i}" for i in range(FINDINGS_PER_SCAN - len(checks))]
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        for sql in SEED_SQL:
            t = time.monotonic()
            literal = sql.replace(":template", f"'{template}'::uuid").replace(
                ":checks", "array[" + ",".join(f"'{c}'" for c in checks) + "]::text[]")
            cur = conn.execute(literal.encode())  # no parameters: '%' stays SQL's modulo
            table = sql.split("INSERT INTO ", 1)[1].split()[0]
            print(f"  seeded {table}: {cur.rowcount} rows in {time.monotonic() - t:.1f} s", flush=True)
        conn.execute("CREATE TABLE bench_seed_mark (mark text)")
        conn.execute("INSERT INTO bench_seed_mark VALUES (%s)", [SEED_MARK])
        conn.commit()
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"database {name}: seeded in {time.monotonic() - started:.0f} s", flush=True)


def row_count(db_url: str) -> int:
    import psycopg

    with psycopg.connect(db_url) as conn:
        return sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)


SESSIONS_SCRIPT = """
import json, sys
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from apps.tenants.models import User
keys = {}
for email in json.loads(sys.argv[1]):
    user = User.objects.get(email=email)
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.set_expiry(86400)
    s.create()
    keys[email] = s.session_key
print(json.dumps(keys))
"""


def make_sessions(env, emails) -> dict:
    import json

    out = run([sys.executable, "-c", SESSIONS_SCRIPT, json.dumps(emails)], env, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def pages(env):
    """{page: [(path, cookie-or-None, text the answer must contain)]}, ROTATE entries each."""
    picks = [(i * 37) % WORKSPACES for i in range(ROTATE)]  # spread over the workspaces
    clients = [w + WORKSPACES * ((i * 7) % (CLIENTS // WORKSPACES)) for i, w in enumerate(picks)]
    consultants = {w: f"consultant{w}@bench.invalid" for w in picks}
    founders = {c: f"founder{c}@bench.invalid" for c in clients}
    keys = make_sessions(env, sorted(set(consultants.values()) | set(founders.values())))

    def cookie(email):
        return f"sessionid={keys[email]}"

    active = CLIENTS * (SPRINTS_PER_CLIENT - 1)  # sprint numbers of the active generation start here
    return {
        "dashboard": [("/sprints/dashboard/", cookie(consultants[w]), "Client ") for w in picks],
        "client": [(f"/clients/{uid('cl', c)}/", cookie(consultants[c % WORKSPACES]), f"client{c}.example.com")
                   for c in clients],
        "sprint": [(f"/sprints/{uid('sp', active + c)}/", cookie(consultants[c % WORKSPACES]), "Finding ")
                   for c in clients],
        "portal": [("/sprints/portal/", cookie(founders[c]), f"Client {c:04d}") for c in clients],
        "score": [(f"/score/{score_token(w)}/", None, f"lead{w}.example.com") for w in picks],
        "trivial": [("/_bench/trivial/", None, "Consultancy 049") for _ in picks],
    }


# --- the trivial page: served by the same gunicorn, through this module as its URLconf ---------------------------
TRIVIAL_TEMPLATE = ("<!doctype html><title>Trivial</title><table>{% for w in rows %}<tr><td>{{ w.name }}</td>"
                    "<td>{{ w.slug }}</td><td>{{ w.created_at|date:'Y-m-d' }}</td></tr>{% endfor %}</table>")
_trivial = []


def trivial(request):
    """50 rows from one indexed query through a (compiled once, like a cached loader's) template."""
    from django.http import HttpResponse
    from django.template import engines

    from apps.tenants.models import Workspace

    if not _trivial:
        _trivial.append(engines["django"].from_string(TRIVIAL_TEMPLATE))
    rows = Workspace.objects.order_by("name")[:50]
    return HttpResponse(_trivial[0].render({"rows": rows}, request))


def application_factory():
    """gunicorn entry: the product's WSGI app with this module's URLconf (the product's URLs + /_bench/trivial/)."""
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    settings.ROOT_URLCONF = "benchmarks.web_at_scale"
    return app


def __getattr__(name):  # urlpatterns built on first use, so importing this file needs no Django
    if name == "urlpatterns":
        from django.urls import include, path

        return [path("_bench/trivial/", trivial), path("", include("launchready.urls"))]
    raise AttributeError(name)


# --- load ---------------------------------------------------------------------------------------------------------
LUA = r"""
local reqs = {%s}
local i = 0
request = function()
  i = i + 1
  local r = reqs[(i %% #reqs) + 1]
  local headers = {["X-Forwarded-Proto"] = "https", ["Host"] = "127.0.0.1"}
  if r[2] ~= "" then headers["Cookie"] = r[2] end
  return wrk.format("GET", r[1], headers)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%%d duration_us=%%d p50_us=%%d p95_us=%%d p99_us=%%d status_errors=%%d "
    .. "socket_errors=%%d\n", summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.status, summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(port, path, cookie):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"X-Forwarded-Proto": "https", **({"Cookie": cookie} if cookie else {})})
    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(request, timeout=30) as response:
        return response.status, response.read(5_000_000).decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def wrk(port, entries, seconds) -> dict:
    rows = ",".join(f'{{"{path}","{cookie or ""}"}}' for path, cookie, _ in entries)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % rows)
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "-s", script.name,
                              f"http://127.0.0.1:{port}/"], capture_output=True, text=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    figures = dict(kv.split("=") for kv in line.split()[1:])
    return {k: int(v) for k, v in figures.items()}


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("WEB_AT_SCALE_SECONDS", "30")),
                        help="load duration per page (default 30, or WEB_AT_SCALE_SECONDS)")
    parser.add_argument("--reseed", action="store_true", help="drop the benchmark database and seed it again")
    parser.add_argument("--pages", default="", help="comma-separated subset of pages (the trivial page always runs)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    started = time.monotonic()
    db_url = bench_database_url()
    env = django_env(db_url)
    ensure_database(db_url, args.reseed, env)
    rows = row_count(db_url)
    run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env)  # the manifest DEBUG=0 needs
    plan = pages(env)
    if args.pages:
        wanted = set(args.pages.split(",")) | {"trivial"}
        plan = {k: v for k, v in plan.items() if k in wanted}
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "benchmarks.web_at_scale:application_factory()", "--bind",
         f"127.0.0.1:{port}", "--workers", WORKERS, "--no-control-socket", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True)
    results = {}
    try:
        for _ in range(100):
            try:
                fetch(port, "/healthz", None)
                break
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        alone = {}
        for page, entries in plan.items():  # every URL answers 200 with its content (and warms both workers)
            for path, cookie, needle in entries:
                status, body = fetch(port, path, cookie)
                assert status == 200 and needle in body, f"{page} {path}: {status}, {needle!r} missing"
            times = []  # then one request at a time: the page's own latency, without queueing behind others
            for path, cookie, _ in entries:
                t = time.perf_counter()
                fetch(port, path, cookie)
                times.append((time.perf_counter() - t) * 1000)
            alone[page] = sorted(times)[len(times) // 2]
        print(f"{rows:,} rows; load average {loadavg()}; {CONNECTIONS} connections, {args.seconds} s per page, "
              f"{ROTATE} users/objects per page", flush=True)
        for page, entries in plan.items():
            fetch(port, "/healthz", None)  # the server has drained the previous page's queue
            r = wrk(port, entries, args.seconds)
            assert r["requests"] and not r["status_errors"] and not r["socket_errors"], f"{page}: {r}"
            r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
            r["alone_ms"] = alone[page]
            results[page] = r
            print(f"  {page:9s} {r['rps']:7.1f} req/s  p50 {r['p50_us'] / 1000:6.1f} ms  p95 {r['p95_us'] / 1000:6.1f} ms"
                  f"  p99 {r['p99_us'] / 1000:6.1f} ms  alone p50 {r['alone_ms']:5.1f} ms  ({r['requests']} requests, "
                  f"load average {loadavg()})",
                  flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    real = {k: v for k, v in results.items() if k != "trivial"}
    worst = max(real, key=lambda k: real[k]["p95_us"])
    worst_p95, trivial_p95 = real[worst]["p95_us"] / 1000, results["trivial"]["p95_us"] / 1000
    per_page = " ".join(f"{k}_p95_ms={v['p95_us'] / 1000:.1f} {k}_rps={v['rps']:.0f} {k}_alone_p50_ms={v['alone_ms']:.1f}"
                        for k, v in results.items())
    print(f"web_at_scale rows={rows} worst_page={worst} worst_p95_ms={worst_p95:.1f} trivial_p95_ms={trivial_p95:.1f} "
          f"ratio={worst_p95 / trivial_p95:.2f} {per_page} seconds={args.seconds} load={os.getloadavg()[0]:.2f} "
          f"wall_s={time.monotonic() - started:.0f}")


if __name__ == "__main__":
    main()
