"""The scan CLI's chat options (SPEC.md section 6) drive perf.chat_stream and the AI suite."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.testworld import chatbot


@pytest.fixture
def world_env(settings, testworld):
    state = testworld.state()
    settings.LAUNCHREADY_NETWORK = {"nameservers": state["nameservers"], "ca_bundle": state["ca_bundle"],
                                    "port_map": state["port_map"], "allowed_networks": state["allowed_networks"]}
    return state


def scan(*args) -> dict:
    out = StringIO()
    call_command("scan", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_json_chat_format_body_reply_and_canaries(world_env):
    doc = scan("bot.lrtest", "--active", "--only", "ai.prompt_leak", "--only", "perf.chat_stream",
               "--endpoint", "chat=https://bot.lrtest/leaky/chat", "--chat-format", "json",
               "--chat-body", '{"message": "{prompt}", "channel": "web"}', "--chat-reply", "reply",
               "--canary", chatbot.PLANTED_SYSTEM_CANARY, "--canary", chatbot.PLANTED_USER_CANARY)
    by_check = {f["check"]: f for f in doc["findings"]}
    assert by_check["ai.prompt_leak"]["status"] == "fail"
    assert set(by_check["ai.prompt_leak"]["evidence"]["canaries"]) == {"planted-1", "planted-2"}
    assert by_check["perf.chat_stream"]["evidence"]["verdict"] == "not_streaming"
    assert chatbot.PLANTED_SYSTEM_CANARY not in json.dumps(doc)
    assert doc["risks"][0]["check"] in ("ai.prompt_leak", "perf.chat_stream")


def test_openai_format_is_the_default(world_env):
    doc = scan("bot.lrtest", "--active", "--only", "perf.chat_stream", "--only", "ai.tool_misuse",
               "--endpoint", "chat=https://bot.lrtest/stream/good/v1/chat/completions",
               "--endpoint", "chat=https://bot.lrtest/agent/v1/chat/completions")
    by_target = {(f["check"], f["target"].split("/")[3]): f for f in doc["findings"]}
    assert by_target[("perf.chat_stream", "stream")]["evidence"]["verdict"] == "streams_well"
    assert by_target[("ai.tool_misuse", "agent")]["status"] == "fail"
    assert doc["decision"] == "no-go"  # unsafe tool use is a blocker


def test_active_checks_need_the_active_flag(world_env):
    with pytest.raises(CommandError) as exc:  # refused (exit 2), not an empty scan scoring 100 and GO
        scan("bot.lrtest", "--only", "ai.", "--endpoint", "chat=https://bot.lrtest/leaky/chat")
    assert exc.value.returncode == 2 and "need --active" in str(exc.value)


@pytest.mark.parametrize("args", [
    ("--chat-format", "xml"),
    ("--chat-body", '{"message": "no placeholder"}'),
    ("--chat-body", '{"message": "{prompt}"'),
])
def test_bad_chat_options_are_rejected(world_env, args):
    with pytest.raises(CommandError) as exc:
        call_command("scan", "bot.lrtest", *args, stdout=StringIO())
    assert exc.value.returncode == 2
