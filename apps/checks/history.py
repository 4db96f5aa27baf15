"""Scan history: the difference between two scans of a client, and the score trend."""

from dataclasses import dataclass

BAD = ("fail", "warn", "error")
STATUS_RANK = {"pass": 0, "skipped": 0, "warn": 1, "error": 1, "fail": 2}


@dataclass
class Change:
    check_id: str
    target: str
    kind: str  # fixed | new | regressed | unchanged | improved | gone
    before: str
    after: str
    summary: str


def diff_scans(older, newer) -> dict[str, list[Change]]:
    """Compare findings keyed by (check, target). Buckets: fixed, new, regressed, improved, unchanged."""
    before = {(f.check_id, f.target): f for f in older.findings.all()}
    after = {(f.check_id, f.target): f for f in newer.findings.all()}
    buckets = {"regressed": [], "new": [], "fixed": [], "improved": [], "unchanged": []}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if new is None:
            continue  # not checked this time (a hostname removed): nothing to say
        old_status = old.status if old else ""
        if old is None:
            kind = "new" if new.status in BAD else "unchanged"
        elif STATUS_RANK[new.status] > STATUS_RANK[old.status]:
            kind = "regressed"
        elif STATUS_RANK[new.status] < STATUS_RANK[old.status]:
            kind = "fixed" if new.status not in BAD else "improved"
        else:
            kind = "unchanged"
        buckets[kind].append(Change(key[0], key[1], kind, old_status, new.status, new.summary))
    return buckets
