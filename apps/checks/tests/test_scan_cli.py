"""`manage.py scan`: the SPEC.md section 6 contract, against the test world."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def world_env(settings, testworld):
    """Point the 'internet' profile at the test world, as LAUNCHREADY_* env vars would."""
    state = testworld.state()
    settings.LAUNCHREADY_NETWORK = {"nameservers": state["nameservers"], "ca_bundle": state["ca_bundle"],
                                    "port_map": state["port_map"], "allowed_networks": state["allowed_networks"]}
    return state


def run(*args) -> str:
    out = StringIO()
    call_command("scan", *args, stdout=out)
    return out.getvalue()


def test_json_document_has_the_contract_keys(world_env):
    doc = json.loads(run("good.lrtest", "--host", "www", "--host", "docs.good.lrtest", "--json"))
    assert list(doc) == ["domain", "score", "grade", "decision", "findings", "risks", "duration_ms"]
    assert doc["domain"] == "good.lrtest"
    assert (doc["score"], doc["grade"], doc["decision"]) == (100, "A", "go")
    targets = {f["target"] for f in doc["findings"]}
    assert {"good.lrtest", "www.good.lrtest", "docs.good.lrtest"} <= targets
    first = doc["findings"][0]
    assert set(first) == {"check", "target", "status", "severity", "summary", "evidence", "remediation",
                          "duration_ms"}


def test_only_and_endpoints(world_env):
    doc = json.loads(run("good.lrtest", "--only", "tls.certificate", "--only", "edge.reach",
                         "--endpoint", "health=https://good.lrtest/health", "--json"))
    assert {f["check"] for f in doc["findings"]} == {"tls.certificate", "edge.reachable"}
    assert "https://good.lrtest/health" in {f["target"] for f in doc["findings"]}


def test_no_go_with_risks_ranked(world_env):
    doc = json.loads(run("expired.lrtest", "--json"))
    assert doc["decision"] == "no-go"
    assert doc["grade"] == "F"
    assert doc["risks"][0]["check"] == "tls.certificate"
    assert doc["risks"][0]["severity"] == "blocker"


def test_table_is_worst_first(world_env):
    lines = run("bare.lrtest").splitlines()
    assert lines[0].startswith("bare.lrtest  score")
    assert lines[1].split()[:4] == ["STATUS", "SEVERITY", "CHECK", "TARGET"]
    statuses = [line.split()[0] for line in lines[2:]]
    order = {"FAIL": 0, "ERROR": 1, "WARN": 2, "PASS": 3, "SKIPPED": 4}
    assert statuses == sorted(statuses, key=order.__getitem__)
    assert statuses[0] == "FAIL"


@pytest.mark.parametrize("args, reason", [
    (["not a domain"], "not a valid hostname"),
    (["localhost"], "needs a dot"),
    (["good.lrtest", "--endpoint", "homepage"], "must be KIND=URL"),
    (["good.lrtest", "--endpoint", "admin=https://good.lrtest/"], "must be KIND=URL"),
    (["good.lrtest", "--endpoint", "health=ftp://good.lrtest/"], "http(s) URL"),
    (["good.lrtest", "--endpoint", "health=https://good.lrtest:99999/"], "bad port"),
    (["good.lrtest", "--host", "bad_host!"], "not a valid hostname"),
    (["good.lrtest", "--only", "nothing"], "matches no check id"),
    (["good.lrtest", "--only", "obs"], "selects no check"),  # before: a scan of nothing, 100 and GO, exit 0
    (["good.lrtest", "--only", "email.delivery"], "selects no check"),
    (["good.lrtest", "--only", "perf.latency"], "need --active"),
    (["good.lrtest", "--endpoint", "homepage=http://[::1/"], "not a valid URL"),  # before: a traceback, exit 1
    (["good.lrtest", "--rate", "-3"], "positive"),
    (["good.lrtest", "--chat-body", "{not json"], "JSON"),
    (["good.lrtest", "--chat-body", '{"q": "hi"}'], "{prompt}"),
    (["good.lrtest", "--dkim-selector", "s 1"], "DNS label"),
    (["<script>.example"], "not a valid hostname"),
])
def test_bad_arguments_raise_exit_code_2(world_env, args, reason):
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert exc.value.returncode == 2
    assert reason in str(exc.value)


def cli(*args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHREADY_")}
    env.update({"DEBUG": "1", **(env_extra or {})})
    return subprocess.run([sys.executable, "manage.py", "scan", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60)


def test_real_cli_honours_environment_and_exits_0(testworld):
    state = testworld.state()
    proc = cli("good.lrtest", "--host", "www", "--only", "http.canonical", "--json", env_extra={
        "LAUNCHREADY_NAMESERVERS": state["nameservers"][0], "LAUNCHREADY_PORT_MAP": state["port_map"],
        "LAUNCHREADY_CA_BUNDLE": state["ca_bundle"], "LAUNCHREADY_ALLOWED_NETWORKS": "127.0.0.0/8"})
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [f["status"] for f in doc["findings"]] == ["pass"]


def test_real_cli_bad_arguments_exit_2_with_one_line():
    for args in (["good.lrtest", "--no-such-option"], ["good.lrtest", "--only", "nope"], []):
        proc = cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert proc.stdout == ""


def test_real_cli_refuses_bad_profile_environment():
    proc = cli("good.lrtest", env_extra={"LAUNCHREADY_PORT_MAP": "443"})
    assert proc.returncode == 2
    assert "port map" in proc.stderr


def test_testworld_command_publishes_state_and_stops_on_ctrl_c(tmp_path):
    import json as _json
    import signal
    import time

    state_file = tmp_path / "state.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHREADY_")}
    env.update({"DEBUG": "1", "LAUNCHREADY_TESTWORLD_STATE": str(state_file), "LAUNCHREADY_VAR_DIR": str(tmp_path)})
    proc = subprocess.Popen([sys.executable, "manage.py", "testworld"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not state_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        state = _json.loads(state_file.read_text())
        assert state["allowed_networks"] == ["127.0.0.0/8"]
        assert Path(state["ca_bundle"]).exists()
        scan = cli("good.lrtest", "--only", "tls.certificate", "--json", env_extra={
            "LAUNCHREADY_NAMESERVERS": state["nameservers"][0], "LAUNCHREADY_PORT_MAP": state["port_map"],
            "LAUNCHREADY_CA_BUNDLE": state["ca_bundle"], "LAUNCHREADY_ALLOWED_NETWORKS": "127.0.0.0/8"})
        assert _json.loads(scan.stdout)["findings"][0]["status"] == "pass"
    finally:
        proc.send_signal(signal.SIGINT)
        out, _err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "good.lrtest" in out
    assert not state_file.exists()
