"""The scan pipeline: plan a scan as (family × hostname) parts, run them in batches, finalize exactly once.

Plain functions called by thin Celery tasks (tasks.py) and by views. A scan's parts are published as a few tasks
(batches of whole families, the page-fetching ones together; at most one per connection slot of the target:
SCAN_TASKS_PER_SCAN); a task runs its parts on one event loop and one ScanNet while it holds its slots. Completion is detected without a result backend:
each part is finished by a conditional UPDATE (exactly once, even when a task is redelivered), the finishing task
bumps `parts_done` by the parts it finished, and whichever task sees `parts_done == parts_total` finalizes — again by
a conditional UPDATE, so only one worker does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import shutil
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.dispatch import Signal
from django.utils import timezone

from apps.checks.engine import Finding as EngineFinding
from apps.checks.engine import Target, run_units_async, scoring
from apps.checks.engine.registry import selected
from apps.checks.profiles import get_profile

from .models import Finding, HostLease, ScanPart, ScanRun

log = logging.getLogger(__name__)

# Sent once per scan, after it is scored and its checklist items are updated (the deploy gate concludes here).
scan_finalized = Signal()
# Sent just before a scan is scored: receivers return extra engine Findings that need data the engine never sees
# (monitoring's obs.monitors / obs.health); they are stored on the scan and scored with the rest.
scan_findings_wanted = Signal()
# Sent by the task that runs a scan's domain-wide parts, before its checks run: receivers read what they need from
# the database now and return async callables `(net) -> [engine Finding]` that run next to the engine's checks, on the
# task's ScanNet and within its connection slot; their findings are stored with the task's domain part. Whatever they
# did not produce (that task was lost, a callable failed) scan_findings_wanted still supplies at finalize.
scan_checks_wanted = Signal()


class QueueUnavailable(Exception):
    """The broker did not accept the scan's tasks; the scan stays queued and beat re-dispatches it later."""


class HostBusy(Exception):
    """Every connection slot of the part's target is held by other parts; the task tries again shortly."""


class OwnershipNotVerified(Exception):
    """Active checks were asked for a client whose domain is not verified; nothing was queued."""


def target_for_client(client, *, active=False, sprint=None) -> Target:
    """The engine's plain-data Target built from a client's rows (no secrets: names, URLs, env-var *names*).

    active: add what the active checks need: the ownership token (the runner re-verifies it in the run itself),
    the load probe's bounded rate/duration and, with a sprint, the sprint's AI canaries."""
    from .envfile import env_inventory

    email = getattr(client, "email_setup", None)
    endpoints = list(client.endpoints.all())
    options = {"env_inventory": env_inventory(client.env_vars.all())}
    chat = {e.url: chat_endpoint_options(e.url, e.request_template) for e in endpoints if e.kind == "chat"}
    if chat:
        options["chat_endpoints"] = chat
    if client.repo_upload:
        # A storage name, turned into a local file only while the repo part runs (see _repo_on_disk).
        options["repo_upload"] = client.repo_upload.name
        options["repo_label"] = client.repo_upload_name or Path(client.repo_upload.name).name
    elif client.repo_url:
        options["repo"] = client.repo_url
    if active:
        options.update(ownership_token=client.verification_token, rate=settings.ACTIVE_SCAN_RATE,
                       duration=settings.ACTIVE_SCAN_DURATION)
        if client.ai_may_supply_system_message:
            options["chat_system_message"] = True
        if sprint is not None:
            from .models import SprintCanaries

            options["ai_canaries"] = SprintCanaries.for_sprint(sprint).tokens()
    return Target.build(
        client.domain,
        hosts=[h.name for h in client.hostnames.all()],
        endpoints=[(e.kind, e.url) for e in endpoints],
        dkim_selectors=list(email.dkim_selectors) if email else [],
        spf_senders=list(email.approved_spf_senders) if email else [],
        options=options,
    )


def chat_endpoint_options(url: str, template: str) -> dict:
    """How the chat checks talk to a declared chat endpoint: OpenAI-compatible when its URL is a
    `/chat/completions` route or its template carries a `messages` list (the engine then writes the messages
    itself, with the template's model); otherwise the client's JSON template with its {prompt} placeholder."""
    import json

    try:
        sample = json.loads((template or "").replace("{prompt}", "x")) if template else {}
    except ValueError:
        sample = {}
    sample = sample if isinstance(sample, dict) else {}
    if urlsplit(url).path.rstrip("/").endswith("/chat/completions") or isinstance(sample.get("messages"), list):
        options = {"format": "openai"}
        if isinstance(sample.get("model"), str) and sample["model"]:
            options["model"] = sample["model"]
        return options
    return {"format": "json", "body": template} if template else {"format": "json"}


def plan_parts(target: Target, only=None, include_active=False) -> list[tuple[str, str]]:
    """(family, hostname) units. A family with per-host checks gets one part per hostname; a family of
    domain-wide checks gets one part on the domain (run_family runs target-scoped checks there)."""
    parts = []
    families: dict[str, set[str]] = {}
    for spec in selected(only, include_active=include_active):
        families.setdefault(spec.family, set()).add(spec.scope)
    for family in sorted(families):
        hosts = target.hostnames if "host" in families[family] else [target.domain]
        parts.extend((family, host) for host in hosts)
    return parts


def run_scan_inline(**kwargs) -> ScanRun:
    """Create a scan and run its parts in this process, without the broker (demo loader, management commands)."""
    scan = start_scan(**kwargs, publish=False)
    run_parts(list(scan.parts.values_list("pk", flat=True)), wait_for_slot=settings.SCAN_HOST_LEASE_SECONDS)
    scan.refresh_from_db()
    return scan


def start_scan(*, client=None, sprint=None, requested_by=None, only=None, profile=None, target=None,
               publish=True, active=False, scheduled=False) -> ScanRun:
    """Create a scan and its parts and enqueue the parts once the transaction commits.

    active: also run the active checks (load probe, chat streaming, AI probes); only for a client whose domain
    was verified ("Verify now"), else OwnershipNotVerified and nothing is created."""
    if active and (client is None or not client.ownership_verified):
        raise OwnershipNotVerified(client.domain if client else "")
    target = target or target_for_client(client, active=active, sprint=sprint)
    profile_name = profile or (client.network_profile if client else settings.DEFAULT_NETWORK_PROFILE)
    get_profile(profile_name)  # fail now, in the request, if the profile is not configured
    now = timezone.now()
    units = plan_parts(target, only, include_active=active)
    with transaction.atomic():
        scan = ScanRun.objects.create(
            client=client, sprint=sprint, requested_by=requested_by, profile=profile_name, domain=target.domain,
            target=dataclasses.asdict(target), options={"only": list(only or []), "active": bool(active),
                                                         "scheduled": scheduled},
            state=ScanRun.QUEUED, parts_total=len(units),
            deadline=now + timedelta(seconds=settings.SCAN_DEADLINE_SECONDS),
        )
        parts = ScanPart.objects.bulk_create(ScanPart(scan=scan, family=family, hostname=host)
                                             for family, host in units)
        if sprint is not None:
            kind = "an active scan" if active else "a scan"
            sprint.log(requested_by, f"started {kind} of {target.domain} ({len(parts)} parts)")
        part_ids = [p.pk for p in parts]
    if not publish:
        return scan
    if transaction.get_connection().in_atomic_block:
        # Called inside a caller's transaction: publish once it commits (beat re-publishes if that fails).
        transaction.on_commit(lambda: dispatch(part_ids))
    elif not dispatch(part_ids):
        ScanRun.objects.filter(pk=scan.pk).update(failure_reason="waiting for the queue")
        raise QueueUnavailable(scan.pk)
    return scan


def dispatch(part_ids) -> bool:
    """Publish the parts (after the rows are committed) as a few tasks per scan (plan_batches); False when the
    broker is unreachable."""
    from . import tasks

    try:
        for batch in plan_batches(part_ids):
            tasks.run_scan_parts.apply_async((batch,), retry=True, retry_policy=PUBLISH_RETRY)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many types for "broker down"
        log.warning("could not publish scan parts: %s", exc)
        return False
    return True


def tasks_per_scan() -> int:
    """How many tasks a scan's parts are spread over: SCAN_TASKS_PER_SCAN (0: one per connection slot), never more
    than the target's slots, since each task holds one slot while it runs."""
    wanted = settings.SCAN_TASKS_PER_SCAN or slots_per_host()
    return max(1, min(wanted, slots_per_host()))


# Families whose checks fetch the hostnames' pages and routes (and follow their redirects across hosts): in one task
# they share those fetches through the task's ScanNet; spread over tasks, each would fetch them again.
PAGE_FAMILIES = frozenset({"http", "edge", "audit"})


def plan_batches(part_ids) -> list[list[int]]:
    """The parts grouped into tasks: never across scans; the page-fetching families' parts together, and each other
    family's parts together (what a family's checks share — DNS answers, fetches — stays in one ScanNet, as in a
    direct engine run); at most tasks_per_scan() tasks per scan, balanced by part count."""
    groups: dict[object, dict[str, list[int]]] = {}
    for pk, scan_id, family in ScanPart.objects.filter(pk__in=list(part_ids)).order_by("pk").values_list(
            "pk", "scan_id", "family"):
        key = "pages" if family in PAGE_FAMILIES else family
        groups.setdefault(scan_id, {}).setdefault(key, []).append(pk)
    count = tasks_per_scan()
    batches = []
    for scan_groups in groups.values():
        bins: list[list[int]] = [[] for _ in range(min(count, len(scan_groups)))]
        for group in sorted(scan_groups.values(), key=len, reverse=True):
            min(bins, key=len).extend(group)
        batches.extend(sorted(b) for b in bins if b)
    return batches


# Publishing gives up after about a second, so a request never hangs on a dead broker.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.5}


def redispatch_stalled(now=None) -> int:
    """Publish again the unfinished parts of live scans that nobody is working on: never started (their task was
    not published or was lost with a broker) or started longer ago than a part may take (their worker died).
    Parts finish exactly once, so a part published twice is harmless. Returns how many parts were published."""
    now = now or timezone.now()
    unstarted_before = now - timedelta(seconds=settings.SCAN_PART_UNSTARTED_SECONDS)
    stalled_before = now - timedelta(seconds=settings.SCAN_PART_STALLED_SECONDS)
    parts = list(ScanPart.objects.filter(
        finished_at=None, scan__state__in=[ScanRun.QUEUED, ScanRun.RUNNING], scan__deadline__gt=now,
    ).filter(
        Q(started_at=None, scan__created_at__lt=unstarted_before)
        & (Q(waiting_at=None) | Q(waiting_at__lt=unstarted_before))
        | Q(started_at__lt=stalled_before)
    ).values_list("pk", "scan_id"))
    if parts and dispatch([pk for pk, _ in parts]):
        ScanRun.objects.filter(pk__in={scan for _, scan in parts}, failure_reason="waiting for the queue").update(
            failure_reason="")
        return len(parts)
    return 0


def run_part(part_id: int, *, wait_for_slot: float = 0) -> None:
    """Run one part (see run_parts)."""
    run_parts([part_id], wait_for_slot=wait_for_slot)


def run_parts(part_ids, *, wait_for_slot: float = 0) -> None:
    """Run parts' checks and record their findings; safe to call again for the same parts (redelivery): parts
    already finished are skipped, and a part is recorded only once.

    The parts of one scan share one of their target's connection slots (HostBusy when none is free within
    wait_for_slot seconds), one event loop and one ScanNet opening at most SCAN_PART_CONNECTIONS connections at
    once, so all workers together stay polite."""
    by_scan: dict[object, list[ScanPart]] = {}
    for part in ScanPart.objects.filter(pk__in=list(part_ids), finished_at=None).exclude(
            scan__state__in=[ScanRun.DONE, ScanRun.FAILED]).order_by("pk"):
        by_scan.setdefault(part.scan_id, []).append(part)
    # Each scan read once (not once per part through select_related: its target and options are JSON to decode).
    for scan in ScanRun.objects.filter(pk__in=list(by_scan)):
        _run_scan_parts(scan, by_scan[scan.pk], wait_for_slot)


def _run_scan_parts(scan: ScanRun, parts: list[ScanPart], wait_for_slot: float) -> None:
    ids = [p.pk for p in parts]
    lease = HostSlot(scan.domain)
    try:
        lease.acquire(wait=wait_for_slot, up_to=slots_per_task())
    except HostBusy:
        ScanPart.objects.filter(pk__in=ids).update(waiting_at=timezone.now())
        raise
    with lease:
        now = timezone.now()
        if scan.state == ScanRun.QUEUED:
            ScanRun.objects.filter(pk=scan.pk, state=ScanRun.QUEUED).update(state=ScanRun.RUNNING, started_at=now)
        ScanPart.objects.filter(pk__in=ids).update(attempts=F("attempts") + 1, started_at=now)
        target = Target(**scan.target)
        profile = get_profile(scan.profile).with_options(max_concurrency=connections_per_part() * len(lease.slots))
        # The scan's home part (its first on the domain) carries the contributed obs.* checks: exactly one task has it.
        home_pk = scan.parts.filter(hostname=scan.domain).order_by("pk").values_list("pk", flat=True).first()
        home = next((p for p in parts if p.pk == home_pk), None)
        extra = _contributed_checks(scan) if home is not None else []
        recorded = _record_early(parts, home)
        with _repo_on_disk(target, needed=any(p.family == "repo" for p in parts)), Heartbeat(lease, ids):
            # async_to_sync, not asyncio.run: the recording callbacks (sync_to_async) then run on this thread and
            # its database connection, inside whatever transaction it is in.
            *results, contributed = async_to_sync(run_units_async)(
                                              [(p.family, p.hostname or None) for p in parts], target, profile,
                                              extra=extra, only=scan.options.get("only") or None,
                                              include_active=bool(scan.options.get("active")),
                                              on_unit_done=recorded.unit_done)
    if home is not None:
        results[parts.index(home)] = results[parts.index(home)] + contributed
    # The rest is recorded after the slot is released: when the scan shows done, none of its slots is still held.
    record_parts([(part, findings) for part, findings in zip(parts, results, strict=True)
                  if part.pk not in recorded.ids], scan)


class _record_early:
    """Records a batch's parts as the engine finishes them, so the sprint page shows findings as they land rather
    than when the whole batch is done: whatever finished, together, at most every SCAN_LIVE_RECORD_SECONDS from the
    batch's start (the page polls every 500 ms, so sooner would not be seen; and each recording costs the checks
    time, since it runs on the task's thread and holds the GIL they need: a batch done within that time is
    recorded once, at the end). Held back for the end
    (recorded by the caller): the home part (the contributed obs.* checks join it), the batch's last part (so the
    scan can never be finalized while this batch still holds its slot) and whatever was still waiting for the next
    recording when the last part finished. The ORM is synchronous: sync_to_async runs the recording on the task's
    own thread."""

    def __init__(self, parts: list[ScanPart], home):
        self.parts, self.home = parts, home
        self.pending = len(parts)
        self.ids: set[int] = set()
        self.waiting: list[tuple[ScanPart, list[EngineFinding]]] = []
        self.recording = False
        self.last_recorded = time.monotonic()  # the batch's start
        self.all_done = asyncio.Event()

    async def unit_done(self, index: int, findings: list[EngineFinding]) -> None:
        self.pending -= 1
        part = self.parts[index]
        if self.pending == 0:
            self.all_done.set()
        if part is self.home or self.pending == 0:
            return
        self.waiting.append((part, findings))
        if self.recording:
            return  # the recording under way takes these too
        self.recording = True
        try:
            while self.waiting and not self.all_done.is_set():
                pause = self.last_recorded + settings.SCAN_LIVE_RECORD_SECONDS - time.monotonic()
                if pause > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.all_done.wait(), pause)
                    if self.all_done.is_set():
                        break  # the caller records what is waiting with the last part, at once
                batch, self.waiting = self.waiting, []
                self.last_recorded = time.monotonic()
                await sync_to_async(record_parts)(batch)
                self.ids.update(part.pk for part, _findings in batch)
        finally:
            self.recording = False  # what is left unrecorded (waiting, an error) the caller records at the end


def _contributed_checks(scan: ScanRun) -> list:
    return _contributions(scan_checks_wanted, scan, "checks")


def _contributions(signal: Signal, scan: ScanRun, what: str) -> list:
    """What the receivers of `signal` return for `scan`, together; a receiver that raises is logged and skipped."""
    collected = []
    for receiver, response in signal.send_robust(sender=ScanRun, scan=scan):
        if isinstance(response, Exception):  # a contributor's fault must not block the scan
            log.error("%s contributor %r failed for scan %s: %r", what, receiver, scan.pk, response)
            continue
        collected.extend(response or [])
    return collected


# --- politeness: connection slots per target domain, shared by every worker ------------------------------------------
def connections_per_part() -> int:
    return max(1, min(settings.SCAN_PART_CONNECTIONS, settings.SCAN_HOST_CONCURRENCY))


def slots_per_host() -> int:
    """Parts of one target that may run at once: together they never open more than SCAN_HOST_CONCURRENCY."""
    return max(1, settings.SCAN_HOST_CONCURRENCY // connections_per_part())


def slots_per_task() -> int:
    """Slots one task takes when they are free: a scan's tasks together may use all of its target's slots."""
    return max(1, slots_per_host() // tasks_per_scan())


def claim_host_slot(key: str, holder: str, now=None) -> int | None:
    """Take a free (or expired) slot of `key` for `holder` by conditional UPDATE; the slot number, or None."""
    slots = claim_host_slots(key, holder, 1, now)
    return slots[0] if slots else None


def claim_host_slots(key: str, holder: str, up_to: int, now=None) -> list[int]:
    """Take up to `up_to` free (or expired) slots of `key` for `holder`, each by conditional UPDATE; the slot
    numbers taken (empty when every slot is held)."""
    now = now or timezone.now()
    count = slots_per_host()
    expires = now + timedelta(seconds=settings.SCAN_HOST_LEASE_SECONDS)
    free = Q(holder="") | Q(expires_at__lt=now)
    # Only slots that look free are tried (one read instead of an UPDATE per slot), in random order so workers
    # rarely race for the same row; the conditional UPDATE is what decides.
    rows = {slot: (holder, until) for slot, holder, until in HostLease.objects.filter(key=key, slot__lt=count)
            .values_list("slot", "holder", "expires_at")}
    if len(rows) < count:  # the target's first scan (or a larger limit): create its missing slot rows
        HostLease.objects.bulk_create([HostLease(key=key, slot=n) for n in range(count) if n not in rows],
                                      ignore_conflicts=True)
    candidates = [n for n in range(count)
                  if n not in rows or not rows[n][0] or (rows[n][1] is not None and rows[n][1] < now)]
    random.shuffle(candidates)
    taken = []
    for slot in candidates:
        if len(taken) >= up_to:
            break
        if HostLease.objects.filter(free, key=key, slot=slot).update(holder=holder, expires_at=expires):
            taken.append(slot)
    return taken


def release_host_slot(key: str, slot: int, holder: str) -> None:
    HostLease.objects.filter(key=key, slot=slot, holder=holder).update(holder="", expires_at=None)


def release_host_slots(key: str, holder: str) -> None:
    HostLease.objects.filter(key=key, holder=holder).update(holder="", expires_at=None)


class HostSlot:
    """Held connection slots of one target: `acquire()` one or more, then `with slot:` releases them whatever
    happens."""

    def __init__(self, key: str):
        self.key, self.holder, self.slots = key, uuid.uuid4().hex, []

    @property
    def slot(self) -> int | None:
        return self.slots[0] if self.slots else None

    def acquire(self, *, wait: float = 0, up_to: int = 1) -> HostSlot:
        """At least one slot (HostBusy when none is free within `wait` seconds), and up to `up_to` if free."""
        give_up = time.monotonic() + wait
        while not (slots := claim_host_slots(self.key, self.holder, up_to)):
            if time.monotonic() >= give_up:
                raise HostBusy(self.key)
            time.sleep(0.05)
        self.slots = slots
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        release_host_slots(self.key, self.holder)


class Heartbeat:
    """While a task's parts run, every SCAN_HEARTBEAT_SECONDS: renew its host slots' lease and mark its parts
    alive (started_at). A long part — the load probe may take minutes — would otherwise look stalled to the sweep,
    be published again, and its duplicate would take the slot once the lease ran out and probe the client twice."""

    def __init__(self, lease: HostSlot, part_ids: list[int]):
        self.lease, self.part_ids = lease, part_ids
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="scan-heartbeat", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        # Bounded: a beat waiting on a row lock (the task's own transaction, a test's) must not hold the task.
        self.thread.join(timeout=2)

    def _beat(self):
        from django.db import connections

        try:
            while not self.stopped.wait(settings.SCAN_HEARTBEAT_SECONDS):
                try:
                    now = timezone.now()
                    HostLease.objects.filter(key=self.lease.key, holder=self.lease.holder).update(
                        expires_at=now + timedelta(seconds=settings.SCAN_HOST_LEASE_SECONDS))
                    ScanPart.objects.filter(pk__in=self.part_ids, finished_at=None).update(started_at=now)
                except Exception:  # noqa: BLE001 - SQLite busy, a dropped connection: the next beat tries again
                    log.warning("scan heartbeat missed for parts %s", self.part_ids, exc_info=True)
                    connections.close_all()
        finally:
            connections.close_all()  # this thread's own connections


@contextlib.contextmanager
def _repo_on_disk(target: Target, needed: bool):
    """An uploaded repository (a storage name in options["repo_upload"]) copied to a temporary file for the
    secret scan, whatever the storage backend; the copy is always removed."""
    name = target.options.get("repo_upload")
    if not (needed and name):
        yield
        return
    from django.core.files.storage import default_storage

    workdir = tempfile.mkdtemp(prefix="lr-repo-upload-")
    try:
        local = Path(workdir) / Path(name).name
        try:
            with default_storage.open(name, "rb") as src, open(local, "wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
            target.options["repo"] = str(local)
        except OSError:
            log.warning("uploaded repository %s is missing from storage", target.options.get("repo_label"))
            target.options["repo"] = str(local)  # absent file: the check reports it could not scan
        yield
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def record_part(part: ScanPart, findings: list[EngineFinding]) -> None:
    record_parts([(part, findings)])


def record_parts(results: list[tuple[ScanPart, list[EngineFinding]]], scan: ScanRun | None = None) -> None:
    """Store the findings of one scan's parts and finish those parts in one transaction (each part by its own
    conditional UPDATE, so a part another delivery already recorded adds nothing), then finalize the scan if this
    brought it to its last part. `scan`: the parts' scan if the caller has it (finalize's UPDATE is conditional on
    the state in the database, so a copy read earlier will do), else it is read."""
    if not results:
        return
    scan_id = results[0][0].scan_id
    with transaction.atomic():
        now = timezone.now()
        mine = _finish_parts([part.pk for part, _findings in results], now)
        finished = [(part, findings) for part, findings in results if part.pk in mine]
        if not finished:
            return  # other deliveries of these parts already recorded them
        Finding.objects.bulk_create([row for part, findings in finished for row in _rows(scan_id, findings)],
                                    ignore_conflicts=True)
        complete = _count_parts_done(scan_id, len(finished))
    if complete:
        finalize(scan if scan is not None and scan.pk == scan_id else ScanRun.objects.get(pk=scan_id))


def _finish_parts(ids: list[int], now) -> set[int]:
    """Mark the still-unfinished parts among `ids` finished, by one conditional UPDATE; the ids it finished (the
    others were recorded by another delivery). RETURNING: PostgreSQL, and SQLite since 3.35."""
    qn = connection.ops.quote_name
    sql = (f"UPDATE {qn(ScanPart._meta.db_table)} SET {qn('finished_at')} = %s "
           f"WHERE {qn('id')} IN ({', '.join(['%s'] * len(ids))}) AND {qn('finished_at')} IS NULL RETURNING {qn('id')}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(now), *ids])
        return {row[0] for row in cursor.fetchall()}


def _count_parts_done(scan_id, count: int) -> bool:
    """Add `count` to the scan's parts_done; True when that makes every part done (one statement, RETURNING)."""
    qn = connection.ops.quote_name
    sql = (f"UPDATE {qn(ScanRun._meta.db_table)} SET {qn('parts_done')} = {qn('parts_done')} + %s "
           f"WHERE {qn('id')} = %s RETURNING {qn('parts_done')}, {qn('parts_total')}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, ScanRun._meta.pk.get_db_prep_value(scan_id, connection)])
        row = cursor.fetchone()
    return row is not None and row[0] >= row[1]


def _rows(scan_id, findings: list[EngineFinding]) -> list[Finding]:
    seen: dict[tuple[str, str], int] = {}
    rows = []
    for f in findings:
        key = (f.check, f.target[:500])
        seen[key] = seen.get(key, -1) + 1
        rows.append(Finding(scan_id=scan_id, check_id=f.check, target=key[1], status=f.status, severity=f.severity,
                            summary=f.summary[:500], evidence=f.evidence, remediation=f.remediation,
                            duration_ms=max(0, int(f.duration_ms)), ordinal=seen[key]))
    return rows


ENGINE_FIELDS = ("check_id", "target", "status", "severity", "summary", "evidence", "remediation", "duration_ms")


def engine_findings(scan: ScanRun) -> list[EngineFinding]:
    """The scan's findings as the engine's dataclass, read as plain values (no model instances: this runs on the
    way to "done" for every scan)."""
    return [EngineFinding(*values) for values in scan.findings.values_list(*ENGINE_FIELDS)]


def engine_findings_from(rows) -> list[EngineFinding]:
    return [EngineFinding(check=f.check_id, target=f.target, status=f.status, severity=f.severity,
                          summary=f.summary, evidence=f.evidence, remediation=f.remediation,
                          duration_ms=f.duration_ms)
            for f in rows]


def add_contributed_findings(scan: ScanRun) -> None:
    extra = _contributions(scan_findings_wanted, scan, "findings")
    if extra:
        Finding.objects.bulk_create(_rows(scan.pk, extra), ignore_conflicts=True)


def finalize(scan: ScanRun, *, reason: str = "") -> bool:
    """Score the scan and mark it done; only the first caller's UPDATE wins."""
    add_contributed_findings(scan)
    findings = engine_findings(scan)
    value = scoring.score(findings)
    fields = dict(state=ScanRun.DONE, finished_at=timezone.now(), score=value, grade=scoring.grade_for(value),
                  decision=scoring.decision(findings), blockers=sum(scoring.blocks_launch(f) for f in findings))
    if reason:
        fields["failure_reason"] = reason[:500]
    won = ScanRun.objects.filter(pk=scan.pk, state__in=[ScanRun.QUEUED, ScanRun.RUNNING]).update(**fields)
    if won:
        scan.refresh_from_db()
        from .rescans import alert_if_worse
        from .sync import apply_scan_to_checklist

        apply_scan_to_checklist(scan)
        try:
            alert_if_worse(scan)
        except Exception:  # noqa: BLE001 - a mail server being down must not undo a finished scan
            log.exception("could not send the alert for scan %s", scan.pk)
        scan_finalized.send(sender=ScanRun, scan=scan)
    return bool(won)


NOTHING_RAN = ("No worker started this scan before its deadline: check that a Celery worker is running, "
               "then run the scan again.")
TOO_BUSY = "The workers were too busy to start this scan in time: add workers, or run the scan again later."
# A scan nobody has started yet while the workers are busy with others waits in the queue: its deadline moves
# on, up to this many deadlines after it was created, before it fails as too busy.
QUEUE_WAIT_DEADLINES = 4


def fail(scan: ScanRun, *, reason: str) -> bool:
    """Mark a scan that measured nothing failed, without a score (a score made of "could not decide" findings would
    read as a result); only the first caller's UPDATE wins."""
    # Only while still queued with no part taken by a worker, in the same UPDATE: a worker that took it meanwhile wins.
    taken = ScanPart.objects.filter(scan_id=OuterRef("pk")).filter(
        Q(started_at__isnull=False) | Q(waiting_at__isnull=False))
    won = ScanRun.objects.filter(pk=scan.pk, state=ScanRun.QUEUED).exclude(Exists(taken)).update(
        state=ScanRun.FAILED, finished_at=timezone.now(), failure_reason=reason[:500])
    if won:
        scan.refresh_from_db()
        scan_finalized.send(sender=ScanRun, scan=scan)
    return bool(won)


def workers_busy(now, exclude_scan) -> bool:
    """Did a worker start a part of another scan lately? Then the workers are alive, only busy."""
    since = now - timedelta(seconds=settings.SCAN_DEADLINE_SECONDS)
    return ScanPart.objects.filter(Q(started_at__gte=since) | Q(waiting_at__gte=since)).exclude(
        scan_id=exclude_scan.pk).exists()


def finalize_overdue(now=None) -> int:
    """Scans past their deadline. One that no worker started: it waits longer while the workers are busy with
    other scans (up to QUEUE_WAIT_DEADLINES), else it fails (nothing was measured). One that started: `error`
    findings for every unfinished part, and finalized with what was measured."""
    now = now or timezone.now()
    count = 0
    for scan in ScanRun.objects.filter(state__in=[ScanRun.QUEUED, ScanRun.RUNNING], deadline__lt=now):
        # (a part a worker holds while it waits for a connection slot counts as started)
        if not scan.parts.filter(Q(started_at__isnull=False) | Q(waiting_at__isnull=False)).exists():
            waited_enough = scan.created_at < now - QUEUE_WAIT_DEADLINES * timedelta(
                seconds=settings.SCAN_DEADLINE_SECONDS)
            if not waited_enough and workers_busy(now, scan):
                ScanRun.objects.filter(pk=scan.pk, deadline=scan.deadline).update(
                    deadline=now + timedelta(seconds=settings.SCAN_DEADLINE_SECONDS))
                continue
            if fail(scan, reason=TOO_BUSY if waited_enough and workers_busy(now, scan) else NOTHING_RAN):
                count += 1
                continue
            # a worker took it just now (or marked it running and died): finish it with what it has
        count += 1
        # Conditional: a worker may have finished it cleanly since the SELECT above.
        ScanRun.objects.filter(pk=scan.pk, state__in=[ScanRun.QUEUED, ScanRun.RUNNING]).update(
            failure_reason="deadline passed")
        target = Target(**scan.target)
        for part in scan.parts.filter(finished_at=None):
            specs = selected(scan.options.get("only") or None, include_active=bool(scan.options.get("active")),
                             family=part.family)
            missing = [
                EngineFinding(check=s.id, target=part.hostname or target.domain, status="error",
                              severity=scoring.default_severity(s.id),
                              summary="The check did not finish before the scan's deadline.",
                              evidence={"error": "scan_deadline", "deadline": scan.deadline.isoformat()},
                              remediation="Run the scan again; if it keeps timing out, check that the host answers.")
                for s in specs if s.scope == "host" or (part.hostname or target.domain) == target.domain
            ]
            record_part(part, missing)
        scan.refresh_from_db()
        if scan.state != ScanRun.DONE:
            finalize(scan, reason="deadline passed")
    return count
