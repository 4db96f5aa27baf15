"""The default seven-stage roadmap: one item per automated check id (SPEC.md §3) plus the manual items.

Changing this list means bumping ROADMAP_VERSION: sprints keep the snapshot they were created with.
"""

ROADMAP_VERSION = 1

# (stage number, name, [(title, check id or "", severity, guidance)])
STAGES = [
    (1, "Quick audit", [
        ("Domain and every hostname resolve", "audit.resolves", "blocker", "A/AAAA answers, following CNAMEs."),
        ("No localhost or staging URLs in served pages", "audit.localhost_refs", "high",
         "Built bundles must not point at localhost:3000, 127.0.0.1, *.local or staging hosts."),
        ("Staging and production env vars match by name", "audit.env_parity", "medium",
         "Compare names only, from the inventory or an uploaded .env.example."),
        ("Core routes answer within budget", "audit.slow_routes", "medium", "One request each: TTFB and total."),
    ]),
    (2, "Deployment stabilization", [
        ("Every required env var exists in production", "deploy.env_complete", "blocker", ""),
        ("No secrets in the git repository", "deploy.secrets_in_repo", "blocker",
         "History and HEAD: keys, tokens, private keys, committed .env files."),
        ("Smoke test passes after deploy", "deploy.smoke", "high", "Homepage, login and health answer 2xx."),
        ("CI is green on every merge", "", "high", "Link the CI run history as evidence."),
        ("Deploys are repeatable from the runbook", "", "high", "Deploy steps written down and followed once."),
        ("Rollback path tested once", "", "blocker", "Roll back to the previous version once and record it."),
    ]),
    (3, "Domain and edge", [
        ("DNS records captured, no CNAME conflicts", "dns.records", "medium", ""),
        ("No dangling CNAMEs", "dns.dangling", "high", "A CNAME to a deleted service invites takeover."),
        ("TLS certificates valid and trusted", "tls.certificate", "blocker", ""),
        ("Modern TLS protocols only", "tls.protocols", "medium", "TLS 1.2+; 1.0/1.1 should be off."),
        ("HTTP redirects to HTTPS", "http.https_redirect", "high", ""),
        ("One canonical host (www or apex)", "http.canonical", "medium", ""),
        ("HSTS enabled", "http.hsts", "medium", "max-age of at least 180 days."),
        ("Security headers set", "http.security_headers", "medium",
         "CSP, nosniff, frame-ancestors, Referrer-Policy."),
        ("No mixed content", "http.mixed_content", "medium", ""),
        ("CDN / DDoS protection in front", "edge.cdn", "medium", ""),
        ("Caching rules are safe", "edge.caching", "low", ""),
        ("Docs, auth callbacks and declared URLs answer", "edge.reachable", "high", ""),
    ]),
    (4, "Performance hardening", [
        ("p95 latency under 500 ms under load", "perf.latency", "high", ""),
        ("Chat streams without timeouts", "perf.chat_stream", "high", ""),
        ("Bot does not leak its system prompt", "ai.prompt_leak", "high", ""),
        ("Bot resists jailbreaks for secrets", "ai.jailbreak", "high", ""),
        ("Injected content cannot trigger tools", "ai.tool_misuse", "blocker", ""),
        ("Rate limits on the chat and auth endpoints", "", "medium", "Describe the limits and where they live."),
    ]),
    (5, "Email trust", [
        ("MX records correct", "email.mx", "medium", ""),
        ("SPF valid and within limits", "email.spf", "high", ""),
        ("DKIM signing keys valid", "email.dkim", "high", ""),
        ("DMARC policy published", "email.dmarc", "high", ""),
        ("TLS reporting published", "email.tls_rpt", "info", ""),
        ("MTA-STS policy published", "email.mta_sts", "info", ""),
        ("Transactional email arrives, authenticated, within 5 minutes", "email.delivery", "high", ""),
    ]),
    (6, "Observability", [
        ("Homepage, login, health and chat monitored every minute", "obs.monitors", "high", ""),
        ("Health endpoint is fast and machine-readable", "obs.health", "medium", ""),
        ("Error tracking connected", "", "medium", "Link the project in the error tracker."),
        ("Alerts reach a named owner", "", "high", "Send a test alert and record who received it."),
    ]),
    (7, "Production handover", [
        ("Handover pack complete", "handover.complete", "blocker", ""),
        ("Secrets rotation plan agreed", "", "high", "Every key exposed during the sprint has a rotation date."),
        ("Founder knows who owns what", "", "medium", "Walk through the ownership matrix together."),
        ("Vendor accounts owned by the company with 2FA", "", "high", ""),
    ]),
]

CHECK_IDS = [item[1] for _, _, items in STAGES for item in items if item[1]]
