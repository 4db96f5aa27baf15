"""perf.chat_stream against the test world's streaming endpoints (tests/testworld/chatbot.py).

Targets carry `operator_vouches` (what the scan CLI's --active sets): these tests are about the check, not about
proof of ownership.
"""

import pytest

from apps.checks.engine import Target, run_scan
from apps.checks.tests.chat_helpers import finding

BOT = "https://bot.lrtest"
VOUCHED = {"operator_vouches": True}


@pytest.fixture
def stream_scan(testworld):
    def run(path, *, options=None, profile=None, include_active=True):
        url = BOT + path
        fmt = "json" if path.endswith("/chat") else "openai"
        target = Target.build("bot.lrtest", [], [("chat", url)],
                              options={"chat_format": fmt, "chat_gap_s": 0.5, **VOUCHED, **(options or {})})
        result = run_scan(target, profile or testworld.profile(check_timeout=8), ["perf.chat_stream"],
                          include_active=include_active)
        return result, url

    return run


def test_good_sse_stream_passes_with_timings(stream_scan):
    result, url = stream_scan("/stream/good/v1/chat/completions")
    f = finding(result, "perf.chat_stream", url)
    assert (f.status, f.evidence["verdict"], f.evidence["mode"]) == ("pass", "streams_well", "sse")
    ev = f.evidence
    assert ev["tokens"] == 12
    assert ev["ttfb_ms"] <= ev["first_token_ms"] < ev["last_token_ms"] <= ev["total_ms"]
    assert len(ev["gaps_ms"]) >= 5 and ev["max_gap_ms"] == max(ev["gaps_ms"])
    assert ev["aborted"] is None


def test_chunked_plain_text_stream_in_json_format_passes(stream_scan):
    result, url = stream_scan("/stream/chunked/chat", options={"chat_body": '{"message": "{prompt}"}'})
    f = finding(result, "perf.chat_stream", url)
    assert (f.status, f.evidence["verdict"], f.evidence["mode"]) == ("pass", "streams_well", "chunked")
    assert f.evidence["tokens"] == 12


def test_first_token_means_first_non_empty_token(stream_scan):
    result, url = stream_scan("/stream/emptyfirst/v1/chat/completions")
    ev = finding(result, "perf.chat_stream", url).evidence
    assert ev["first_body_ms"] < 300  # the empty deltas arrive at once ...
    assert ev["first_token_ms"] >= 450  # ... but the first real token only after 0.5 s


def test_first_token_over_two_seconds_fails(stream_scan):
    result, url = stream_scan("/stream/slow/v1/chat/completions?first=2.2", options={"chat_gap_s": 5})
    f = finding(result, "perf.chat_stream", url)
    assert (f.status, f.evidence["verdict"]) == ("fail", "slow_first_token")
    assert f.evidence["first_token_ms"] > 2000
    assert f.evidence["budgets"]["first_token_s"] == 2.0


def test_no_first_token_is_aborted_at_the_wait_cap(stream_scan):
    result, url = stream_scan("/stream/slow/v1/chat/completions?first=20",
                              options={**VOUCHED, "chat_first_token_wait_s": 0.5})
    f = finding(result, "perf.chat_stream", url)
    assert (f.status, f.evidence["verdict"], f.evidence["aborted"]) == ("fail", "slow_first_token", "first_token")
    assert f.evidence["total_ms"] < 2000


def test_stalled_stream_is_aborted_at_the_gap_budget(stream_scan):
    result, url = stream_scan("/stream/stalled/v1/chat/completions")
    f = finding(result, "perf.chat_stream", url)
    assert (f.status, f.evidence["verdict"], f.evidence["aborted"]) == ("fail", "stalled", "stalled")
    assert f.evidence["tokens"] == 3
    # The server stays silent for 30 s; we stop at the 0.5 s budget.
    assert 450 <= f.evidence["total_ms"] < 2500
    assert f.duration_ms < 3000


def test_buffered_stream_is_recognised(stream_scan):
    result, url = stream_scan("/stream/buffered/v1/chat/completions")
    f = finding(result, "perf.chat_stream", url)
    assert (f.status, f.evidence["verdict"], f.evidence["mode"]) == ("fail", "buffered", "sse")
    assert f.evidence["last_token_ms"] - f.evidence["first_token_ms"] < 50
    assert "proxy_buffering" in f.remediation


def test_one_piece_json_answer_is_not_streaming(stream_scan):
    result, url = stream_scan("/stream/plain/v1/chat/completions")
    f = finding(result, "perf.chat_stream", url)
    assert (f.status, f.severity, f.evidence["verdict"], f.evidence["mode"]) == ("warn", "medium", "not_streaming",
                                                                                  "length")


def test_server_error_is_an_error(stream_scan):
    result, url = stream_scan("/stream/error/v1/chat/completions")
    f = finding(result, "perf.chat_stream", url)
    assert (f.status, f.evidence["verdict"], f.evidence["status"]) == ("error", "error", 500)


def test_refused_address_is_an_error_not_a_pass(stream_scan, testworld):
    result, url = stream_scan("/stream/good/v1/chat/completions", profile=testworld.profile(allowed_networks=()))
    f = finding(result, "perf.chat_stream", url)
    assert (f.status, f.evidence["error"]) == ("error", "refused_address")


def test_bad_body_template_is_an_error(stream_scan):
    result, url = stream_scan("/stream/chunked/chat", options={"chat_body": '{"message": "{prompt}"'})
    assert finding(result, "perf.chat_stream", url).evidence["error"] == "bad_template"


def test_active_check_runs_only_when_asked_and_skips_without_chat(stream_scan, testworld):
    result, _ = stream_scan("/stream/good/v1/chat/completions", include_active=False)
    assert result.findings == []
    no_chat = run_scan(Target.build("bot.lrtest", options=VOUCHED), testworld.profile(), ["perf.chat_stream"], include_active=True)
    assert finding(no_chat, "perf.chat_stream", "bot.lrtest").status == "skipped"


def test_never_ending_stream_is_cut_at_the_hard_deadline(stream_scan):
    result, url = stream_scan("/stream/endless/v1/chat/completions", options={"chat_deadline_s": 1.0})
    f = finding(result, "perf.chat_stream", url)
    assert (f.status, f.evidence["verdict"], f.evidence["aborted"]) == ("fail", "stalled", "deadline")
    assert f.evidence["tokens"] >= 5
    assert 950 <= f.evidence["total_ms"] < 2000


def test_answer_over_the_size_cap_is_cut_off(stream_scan, testworld):
    result, url = stream_scan("/stream/good/v1/chat/completions", profile=testworld.profile(max_body_bytes=300))
    f = finding(result, "perf.chat_stream", url)
    assert (f.status, f.evidence["aborted"], f.evidence["truncated"], f.evidence["bytes"]) == ("error", "size", True,
                                                                                                300)


@pytest.mark.parametrize("url,kind", [("http://garbage.lrtest/v1/chat/completions", "bad_http"),
                                      ("https://docs.dead.lrtest/v1/chat/completions", "connect_refused")])
def test_unreachable_or_broken_chat_hosts_are_errors(testworld, url, kind):
    host = url.split("/")[2]
    target = Target.build(host, [], [("chat", url)], options=VOUCHED)
    result = run_scan(target, testworld.profile(), ["perf.chat_stream"], include_active=True)
    f = finding(result, "perf.chat_stream", url)
    assert (f.status, f.evidence["error"]) == ("error", kind)


def test_request_template_per_endpoint(testworld):
    openai_url = BOT + "/stream/good/v1/chat/completions"
    json_url = BOT + "/stream/chunked/chat"
    target = Target.build("bot.lrtest", [], [("chat", openai_url), ("chat", json_url)], options={
        **VOUCHED, "chat_endpoints": {json_url: {"format": "json", "body": '{"message": "{prompt}", "stream": true}'}}})
    result = run_scan(target, testworld.profile(check_timeout=8), ["perf.chat_stream"], include_active=True)
    assert finding(result, "perf.chat_stream", openai_url).evidence["mode"] == "sse"
    assert finding(result, "perf.chat_stream", json_url).evidence["mode"] == "chunked"
    assert {f.status for f in result.findings} == {"pass"}


def test_server_that_never_answers_is_a_slow_first_token_cut_at_the_wait(testworld):
    url = "http://blackhole.lrtest/v1/chat/completions"
    target = Target.build("blackhole.lrtest", [], [("chat", url)], options={**VOUCHED, "chat_first_token_wait_s": 0.5})
    result = run_scan(target, testworld.profile(), ["perf.chat_stream"], include_active=True)
    f = finding(result, "perf.chat_stream", url)
    assert (f.status, f.evidence["verdict"], f.evidence["status"]) == ("fail", "slow_first_token", None)
    assert f.evidence["total_ms"] < 1500


def test_chat_stream_belongs_to_the_perf_family():
    from apps.checks.engine.registry import REGISTRY, load_families

    load_families()
    spec = REGISTRY["perf.chat_stream"]
    assert (spec.family, spec.scope, spec.active) == ("perf", "target", True)
    assert {REGISTRY[c].family for c in ("ai.prompt_leak", "ai.jailbreak", "ai.tool_misuse")} == {"ai"}


def test_keep_alives_do_not_extend_the_first_token_wait(stream_scan):
    result, url = stream_scan("/stream/keepalive/v1/chat/completions", options={"chat_first_token_wait_s": 0.6})
    f = finding(result, "perf.chat_stream", url)
    assert (f.status, f.evidence["verdict"], f.evidence["aborted"]) == ("fail", "slow_first_token", "first_token")
    assert f.evidence["chunks"] >= 3  # bytes kept coming ...
    assert f.evidence["total_ms"] < 1500  # ... and we still stopped at the wait
