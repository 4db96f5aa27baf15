"""deploy.smoke: right after a deploy, do the pages people need answer, and does the chat still talk?

One finding per declared homepage, login and health endpoint (the homepage defaults to https://<domain>/): a 2xx
after redirects within the time budget passes; anything else fails with the status or the reason. A login or health
endpoint that is not declared is a warning (nothing to prove the deploy by). Each chat endpoint gets one short,
real streamed exchange judged exactly like perf.chat_stream (apps/checks/engine/chat_stream.classify): a stalled,
silent or broken stream fails the smoke test; an answer that does not stream is only a warning here.

The check belongs to a deploy: it runs only when the Target option `deploy_smoke` is set, which the deploy API
(apps/deploys) does for the scan that follows each reported deploy — the founder's CI called us with the client's
deploy token, which is also consent for the one chat exchange. In any other scan it reports nothing, so full
passive scans neither change their score nor talk to a chatbot (perf.chat_stream and ai.* are active checks).
"""

from __future__ import annotations

import asyncio

from .chat import Budgets, ChatEndpoint, ChatFormatError, send_chat
from .chat_stream import budgets_for, classify
from .net import NetError
from .registry import check
from .runner import error_finding, make_finding

CHECK = "deploy.smoke"
PAGE_KINDS = ("homepage", "login", "health")
PAGE_BUDGET_MS = 3000  # a page that takes longer than this right after a deploy is not healthy
SMOKE_PROMPT = "Reply with the single word: ready."
REMEDIATION = {
    "homepage": "Roll back or fix the release: the homepage must answer 2xx right after a deploy.",
    "login": "Roll back or fix the release: people cannot sign in while the login page fails.",
    "health": "Roll back or fix the release: the health endpoint reports the app unhealthy or does not answer.",
    "chat": "Roll back or fix the release: the chat API must finish a short exchange after every deploy.",
}


def smoke_budget_ms(target) -> int:
    return int(target.option("smoke_page_budget_ms", PAGE_BUDGET_MS))


async def smoke_page(target, net, kind: str, url: str):
    budget = smoke_budget_ms(target)
    try:
        chain = await net.follow(url)
    except NetError as exc:
        return error_finding(CHECK, url, exc, what=f"the {kind} page")
    final = chain.final
    evidence = {"kind": kind, "budget_ms": budget, **chain.evidence()}
    if final is None:
        return make_finding(CHECK, url, "fail", f"The {kind} page ({url}) never settled: too many redirects.",
                            evidence, REMEDIATION[kind])
    if not 200 <= final.status < 300:
        return make_finding(CHECK, url, "fail", f"The {kind} page answered HTTP {final.status}.",
                            evidence, REMEDIATION[kind])
    if final.total_ms > budget:
        return make_finding(CHECK, url, "fail", f"The {kind} page took {final.total_ms} ms (budget {budget} ms).",
                            evidence, REMEDIATION[kind])
    return make_finding(CHECK, url, "pass", f"The {kind} page answered HTTP {final.status} in {final.total_ms} ms.",
                        evidence)


async def smoke_chat(target, net, url: str):
    budgets, first_token_s = budgets_for(target, net)
    # One short exchange: leave room inside the check's own timeout for the pages running alongside.
    budgets = Budgets(deadline_s=min(budgets.deadline_s, 20.0), first_token_wait_s=budgets.first_token_wait_s,
                      gap_s=budgets.gap_s)
    try:
        endpoint = ChatEndpoint.for_url(target, url)
        reply = await send_chat(net, endpoint, [{"role": "user", "content": SMOKE_PROMPT}], stream=True,
                                budgets=budgets)
    except ChatFormatError as exc:
        return make_finding(CHECK, url, "error", f"The chat request template cannot be used: {exc}.",
                            {"kind": "chat", "error": "bad_template"}, "Fix the chat body template.")
    except NetError as exc:
        return error_finding(CHECK, url, exc, what="the chat API")
    verdict, status, summary = classify(reply, budgets, first_token_s)
    evidence = {"kind": "chat", "verdict": verdict, **reply.summary()}
    if status == "error":
        status = "fail"  # after a deploy, a chat API that errors is a failed smoke test, not an unknown
    return make_finding(CHECK, url, status, f"Chat API: {summary}", evidence,
                        "" if status == "pass" else REMEDIATION["chat"],
                        severity="medium" if status == "warn" else None)


@check(CHECK, scope="target", family="deploy")
async def deploy_smoke(target, net):
    if not target.option("deploy_smoke", False):
        return []
    jobs = []
    for kind in PAGE_KINDS:
        urls = target.endpoints.get(kind) or ([f"https://{target.domain}/"] if kind == "homepage" else [])
        jobs += [smoke_page(target, net, kind, url) for url in urls]
    jobs += [smoke_chat(target, net, url) for url in target.endpoints.get("chat", [])]
    findings = list(await asyncio.gather(*jobs))
    for kind in ("login", "health"):
        if not target.endpoints.get(kind):
            findings.append(make_finding(CHECK, target.domain, "warn",
                                         f"No {kind} endpoint is declared, so the smoke test cannot check it.",
                                         {"kind": kind, "error": "not_declared"},
                                         f"Add the {kind} endpoint to the client's endpoints.", severity="low"))
    return findings
