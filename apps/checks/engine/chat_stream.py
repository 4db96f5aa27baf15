"""perf.chat_stream: does each chat endpoint stream its answer, quickly and without stalls?

One streamed request per chat endpoint (OpenAI `stream: true`, or the operator's JSON template). Verdicts, worst
first: error, stalled (a gap over the budget: we abort at the budget), first token too slow (> 2 s), buffered (SSE or
chunked headers, but every token arrives in one burst at the end: a proxy is buffering), not streaming (one JSON
answer), streams well. Timings are the evidence.
"""

from __future__ import annotations

from .chat import Budgets, ChatEndpoint, ChatFormatError, send_chat
from .net import NetError
from .registry import check
from .runner import error_finding, make_finding

CHECK = "perf.chat_stream"
FIRST_TOKEN_BUDGET_S = 2.0
GAP_BUDGET_S = 5.0
FIRST_TOKEN_WAIT_S = 15.0
DEADLINE_S = 60.0
STREAM_PROMPT = "Count from one to twenty in words, one number per line."
# Buffered: at least this many tokens, a wait of at least BUFFERED_MIN_MS, and all tokens inside the last
# BUFFERED_SPREAD of the total time. A reply that is simply fast cannot be told apart from a buffered one, and does
# no harm: below BUFFERED_MIN_MS we do not call it buffered.
BUFFERED_MIN_TOKENS = 3
BUFFERED_MIN_MS = 250
BUFFERED_SPREAD = 0.1


def budgets_for(target, net) -> tuple[Budgets, float]:
    """(reader budgets, first-token verdict threshold) from Target options, inside the check's own timeout."""
    room = max(1.0, net.profile.check_timeout - 0.5)
    deadline = min(float(target.option("chat_deadline_s", DEADLINE_S)), room)
    budgets = Budgets(deadline_s=deadline,
                      first_token_wait_s=min(float(target.option("chat_first_token_wait_s", FIRST_TOKEN_WAIT_S)),
                                             deadline),
                      gap_s=float(target.option("chat_gap_s", GAP_BUDGET_S)))
    return budgets, float(target.option("chat_first_token_s", FIRST_TOKEN_BUDGET_S))


def classify(reply, budgets: Budgets, first_token_s: float) -> tuple[str, str, str]:
    """(verdict, status, summary) of one streamed reply."""
    t = reply.timing
    if reply.status is None and t.aborted in ("first_token", "deadline"):
        return ("slow_first_token", "fail", f"The endpoint sent no response at all within "
                f"{min(budgets.first_token_wait_s, budgets.deadline_s):g} s.")
    if reply.status is None or not 200 <= reply.status < 300:
        return "error", "error", f"The chat endpoint answered HTTP {reply.status}."
    if t.aborted == "stalled":
        return ("stalled", "fail", f"The stream went silent for more than {budgets.gap_s:g} s after "
                f"{t.tokens} token(s); we stopped waiting at the budget.")
    if t.aborted == "size":
        return "error", "error", "The answer was larger than the size cap; it was cut off."
    if t.aborted in ("first_token", "deadline") and t.first_token_ms is None:
        return ("slow_first_token", "fail", f"No token arrived within {budgets.first_token_wait_s:g} s; the "
                "endpoint never started answering.")
    if t.aborted == "deadline":
        return ("stalled", "fail", f"The stream did not finish within the {budgets.deadline_s:g} s deadline.")
    if reply.error:
        return "error", "error", f"The stream broke: {reply.error}."
    if t.first_token_ms is None:
        return "error", "error", "The endpoint answered without any reply text."
    spread = (t.last_token_ms or 0) - t.first_token_ms
    if (reply.claims_streaming and t.tokens >= BUFFERED_MIN_TOKENS and t.total_ms >= BUFFERED_MIN_MS
            and spread <= BUFFERED_SPREAD * t.total_ms):
        return ("buffered", "fail", f"The endpoint says it streams ({reply.mode}) but all {t.tokens} tokens arrived "
                f"together after {t.first_token_ms} ms: something on the way buffers the stream.")
    if not reply.claims_streaming:
        return ("not_streaming", "warn", f"The endpoint answers in one piece after {t.total_ms} ms instead of "
                "streaming; people stare at a spinner until the whole reply is ready.")
    if t.first_token_ms > first_token_s * 1000:
        return ("slow_first_token", "fail", f"The first token took {t.first_token_ms} ms (budget "
                f"{first_token_s * 1000:.0f} ms).")
    return ("streams_well", "pass", f"Streams well: first token after {t.first_token_ms} ms, largest gap "
            f"{t.max_gap_ms} ms, done in {t.total_ms} ms.")


REMEDIATION = {
    "stalled": "Find what holds the stream (a tool call or upstream request without a timeout, a proxy idle "
               "timeout); send keep-alive comments and put a timeout on every upstream call.",
    "slow_first_token": "Start streaming as soon as the model starts answering; move retrieval and tool calls out "
                        "of the path to the first token or show progress while they run.",
    "buffered": "Turn off response buffering for the chat route (nginx `proxy_buffering off` or "
                "`X-Accel-Buffering: no`, no gzip on text/event-stream, a host that supports streaming responses).",
    "not_streaming": "Stream the answer (server-sent events with `stream: true`) so people see text within a second.",
    "error": "Make the chat endpoint answer a plain request, then scan again.",
}


@check(CHECK, scope="target", active=True, family="perf")
async def chat_stream(target, net):
    urls = target.endpoints.get("chat", [])
    if not urls:
        return [make_finding(CHECK, target.domain, "skipped", "No chat endpoint is declared.")]
    budgets, first_token_s = budgets_for(target, net)
    findings = []
    for url in urls:
        try:
            endpoint = ChatEndpoint.for_url(target, url)
            messages = [{"role": "user", "content": target.option("chat_stream_prompt", STREAM_PROMPT)}]
            reply = await send_chat(net, endpoint, messages, stream=True, budgets=budgets)
        except ChatFormatError as exc:
            findings.append(make_finding(CHECK, url, "error", f"The chat request template cannot be used: {exc}.",
                                         {"error": "bad_template"}, "Fix the chat body template."))
            continue
        except NetError as exc:
            findings.append(error_finding(CHECK, url, exc))
            continue
        verdict, status, summary = classify(reply, budgets, first_token_s)
        evidence = {"verdict": verdict, **reply.summary(),
                    "budgets": {"first_token_s": first_token_s, "gap_s": budgets.gap_s,
                                "deadline_s": budgets.deadline_s}}
        findings.append(make_finding(CHECK, url, status, summary, evidence, REMEDIATION.get(verdict, ""),
                                     severity="medium" if verdict == "not_streaming" else None))
    return findings
