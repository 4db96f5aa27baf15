"""Proof of ownership (DNS TXT or well-known file) and the runner's refusal of active checks without it."""

import asyncio

import pytest

from apps.checks.engine import Target, run_scan
from apps.checks.engine.net import ScanNet
from apps.checks.engine.ownership import (
    TXT_PREFIX,
    instructions,
    is_valid_token,
    new_token,
    verify_ownership,
    verify_ownership_now,
)
from apps.checks.tests.helpers import skip_if_machine_too_busy
from tests.testworld import zones
from tests.testworld.ownership_sites import FILE_TOKEN, TXT_TOKEN


def verify(profile, domain, token):
    return asyncio.run(verify_ownership(domain, token, ScanNet(profile)))


def test_a_txt_record_with_the_token_verifies(world_profile):
    result = verify(world_profile, "owned-txt.lrtest", TXT_TOKEN)
    assert result.verified is True
    assert result.method == "dns_txt"
    assert result.evidence["dns_txt"]["ok"] is True
    assert result.evidence["well_known_file"]["ok"] is False  # no file there: the TXT alone is enough


def test_a_txt_record_split_into_strings_verifies(world_profile):
    assert verify(world_profile, "split-txt.lrtest", TXT_TOKEN).method == "dns_txt"


def test_the_well_known_file_with_the_token_verifies(world_profile):
    result = verify(world_profile, "owned-file.lrtest", FILE_TOKEN)
    assert result.verified is True
    assert result.method == "well_known_file"
    assert "contains the token" in result.reason


def test_the_file_may_sit_behind_a_redirect_on_the_same_domain(world_profile):
    result = verify(world_profile, "www-file.lrtest", FILE_TOKEN)
    assert result.method == "well_known_file"
    assert [hop["status"] for hop in result.evidence["well_known_file"]["hops"]] == [301, 200]


def test_a_wrong_token_does_not_verify_either_way(world_profile):
    txt = verify(world_profile, "owned-txt.lrtest", FILE_TOKEN)
    assert txt.verified is False and txt.method is None
    assert "different token" in txt.reason
    file = verify(world_profile, "owned-file.lrtest", TXT_TOKEN)
    assert file.verified is False
    assert "does not contain this token" in file.reason


def test_a_redirect_to_another_domain_proves_nothing(world_profile):
    # offsite-file.lrtest's file path redirects to owned-file.lrtest, whose file does hold FILE_TOKEN.
    result = verify(world_profile, "offsite-file.lrtest", FILE_TOKEN)
    assert result.verified is False
    assert "redirects off offsite-file.lrtest" in result.reason


@pytest.mark.parametrize("token", ["", "short", "x" * 200, "has spaces in it 123456", None, 12345678901234567890,
                                   "<script>alert(1)</script>"])
def test_malformed_tokens_never_verify(world_profile, token):
    result = verify(world_profile, "owned-txt.lrtest", token)
    assert result.verified is False
    assert "No valid verification token" in result.reason


def test_new_tokens_are_valid_and_unique():
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50 and all(is_valid_token(t) for t in tokens)


def test_verification_goes_through_the_address_guard(testworld):
    result = verify(testworld.profile(allowed_networks=()), "owned-file.lrtest", FILE_TOKEN)
    assert result.verified is False
    assert result.evidence["well_known_file"]["error"] == "refused_address"


def test_the_sync_entry_point_for_the_web_product(world_profile):
    assert verify_ownership_now("owned-txt.lrtest", TXT_TOKEN, world_profile).verified is True


# --- the runner's refusal ----------------------------------------------------------------------------------------

def active_scan(profile, domain, **options):
    target = Target.build(domain, (), [("homepage", f"https://{domain}/")],
                          options={"rate": 10, "duration": 0.3, **options})
    result = run_scan(target, profile, ["perf.latency"], include_active=True)
    return skip_if_machine_too_busy([f for f in result.findings if f.check == "perf.latency"]), target


def test_active_checks_are_refused_without_proof(testworld, world_profile):
    before = testworld.connections["127.0.0.2"]
    findings, target = active_scan(world_profile, "unowned.lrtest")
    [f] = findings
    assert f.status == "skipped"
    assert f.summary.startswith("Not run: this check sends real traffic, so verify ownership of unowned.lrtest first")
    assert f"{TXT_PREFIX}<your token>" in f.summary and "/.well-known/launchready-verify.txt" in f.summary
    assert f.evidence["refused"] == "ownership_not_verified"
    assert target.options["ownership"]["verified"] is False
    assert testworld.connections["127.0.0.2"] == before  # not one request was sent


def test_active_checks_are_refused_with_a_wrong_token_and_told_the_right_record(testworld, world_profile):
    token = new_token()
    [f], _ = active_scan(world_profile, "owned-txt.lrtest", ownership_token=token)
    assert f.status == "skipped"
    assert f"{TXT_PREFIX}{token}" in f.summary
    assert f.evidence["txt_record"] == f"{TXT_PREFIX}{token}"
    assert "different token" in f.evidence["ownership"]["reason"]


def test_a_verified_domain_gets_its_active_checks(world_profile):
    [f], target = active_scan(world_profile, "owned-txt.lrtest", ownership_token=TXT_TOKEN)
    assert f.status == "pass", f.summary
    assert f.evidence["samples"] == 3
    assert target.options["ownership"]["method"] == "dns_txt"


def test_ownership_is_re_checked_before_every_active_run(world_profile, monkeypatch):
    [first], _ = active_scan(world_profile, "owned-txt.lrtest", ownership_token=TXT_TOKEN)
    assert first.status == "pass"
    # The founder removes the record (or the domain changes hands): the next run must not trust the last one.
    monkeypatch.setitem(zones.ZONES, "owned-txt.lrtest", {"A": [zones.MAIN], "TXT": ['"v=spf1 -all"']})
    [second], target = active_scan(world_profile, "owned-txt.lrtest", ownership_token=TXT_TOKEN)
    assert second.status == "skipped"
    assert "no launchready-verify= TXT record" in target.options["ownership"]["reason"]


def test_a_stale_verified_flag_in_options_is_not_trusted(world_profile):
    [f], _ = active_scan(world_profile, "unowned.lrtest", ownership={"verified": True}, ownership_verified=True)
    assert f.status == "skipped"


def test_operator_vouching_skips_verification(world_profile):
    [f], target = active_scan(world_profile, "unowned.lrtest", operator_vouches=True)
    assert f.status == "pass", f.summary
    assert target.options["ownership"]["method"] == "operator"


def test_passive_checks_run_without_proof(world_profile):
    target = Target.build("unowned.lrtest")
    result = run_scan(target, world_profile, ["dns.records", "perf.latency"], include_active=True)
    statuses = {f.check: f.status for f in result.findings}
    assert statuses["dns.records"] in ("pass", "warn")
    assert statuses["perf.latency"] == "skipped"


def test_instructions_name_both_methods():
    text = instructions("example.com", "abcdefghijklmnop1234")
    assert '"launchready-verify=abcdefghijklmnop1234" at example.com' in text
    assert "https://example.com/.well-known/launchready-verify.txt" in text



def test_the_file_check_has_one_budget_whatever_the_site_does(world_profile, monkeypatch):
    # "Verify now" runs in a web request: a site trickling its answer must not hold the worker for every hop's
    # own timeout (up to four fetches).
    import time

    from apps.checks.engine import ownership

    monkeypatch.setattr(ownership, "FILE_CHECK_BUDGET_S", 0.3)
    started = time.monotonic()
    result = verify(world_profile, "trickle.lrtest", new_token())
    assert time.monotonic() - started < 3
    assert result.verified is False
    assert "did not answer within 0.3 s" in result.evidence["well_known_file"]["reason"]
