"""Finding secrets in text: our rules for the keys founders leak most, plus detect-secrets' detectors.

Used by `deploy.secrets_in_repo` (repo.py) on every blob of a repository. A hit carries the raw secret only in
memory, for de-duplication; everything that leaves this module for a Finding goes through `mask()`. Nothing here
logs.

detect-secrets is used through its plugin classes' `analyze_string` (pure regex work) and its heuristic filters,
never through its scanning entry points: those read a process-wide settings singleton and, when a verification
filter is configured, send the candidate secret to the vendor's API. We never want a secret on the wire.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from bisect import bisect_left
from dataclasses import dataclass
from posixpath import basename

from detect_secrets.filters import heuristic
from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString
from detect_secrets.plugins.keyword import KeywordDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str  # what a founder reads: "Stripe live secret key"
    severity: str  # blocker | high | medium | low
    remediation: str


ROTATE = ("Rotate it now at {where} (assume it is compromised: it stays in the git history even after the file "
          "changes), move the new value to your host's secret settings, and purge the history if the repository "
          "is or was public.")

SEVERITY_RANK = {"blocker": 0, "high": 1, "medium": 2, "low": 3, "info": 4}

RULES = {r.id: r for r in (
    Rule("stripe_live", "Stripe live secret key", "blocker", ROTATE.format(where="Stripe Dashboard > Developers > "
                                                                             "API keys (roll key)")),
    Rule("stripe_test", "Stripe test secret key", "low", "Test keys move no money, but roll it in the Stripe "
         "Dashboard and keep keys out of git (use environment variables)."),
    Rule("stripe_webhook", "Stripe webhook signing secret", "high", ROTATE.format(where="Stripe Dashboard > "
                                                                                  "Webhooks (roll secret)")),
    Rule("aws_key", "AWS access key", "high", ROTATE.format(where="AWS IAM (deactivate and delete the key)")),
    Rule("private_key", "private key", "high", "Treat the key pair as compromised: issue a new key, revoke the "
         "old one (certificate, deploy key, SSH authorized_keys) and keep key files out of git (.gitignore)."),
    Rule("openai_key", "OpenAI API key", "high", ROTATE.format(where="platform.openai.com > API keys")),
    Rule("anthropic_key", "Anthropic API key", "high", ROTATE.format(where="console.anthropic.com > API keys")),
    Rule("github_token", "GitHub token", "high", ROTATE.format(where="GitHub > Settings > Developer settings")),
    Rule("database_url", "database URL with a password", "high", ROTATE.format(where="your database provider "
                                                                               "(change the user's password)")),
    Rule("database_url_local", "local database URL with a password", "low", "Only a local development database, "
         "but keep connection strings in environment variables so a real one never lands here."),
    Rule("dotenv_file", "committed .env file", "high", "Remove the file from the repository, add `.env*` (except "
         ".env.example) to .gitignore, and rotate every value it ever held: they stay in the git history."),
    Rule("dotenv_file_empty", "committed .env file without values", "low", "Rename it to .env.example (names only) "
         "and add `.env` to .gitignore before someone fills it in."),
    Rule("vendor_token", "API token", "high", ROTATE.format(where="the vendor's dashboard")),
    Rule("credentials_in_url", "URL with embedded credentials", "high", ROTATE.format(where="the service the URL "
                                                                                      "points to")),
    Rule("supabase_service_key", "Supabase service-role key", "high", ROTATE.format(
        where="Supabase > Project settings > API (roll the JWT secret)") + " This key bypasses row-level security."),
    Rule("jwt", "JSON Web Token", "low", "Often a public anon key or a test token; if it grants real access, "
         "revoke it (rotate the signing secret) and load it from an environment variable."),
    Rule("generic_secret", "secret-looking value", "medium", "Check whether this value is a real credential; if "
         "it is, rotate it and load it from an environment variable instead."),
)}

# Files that are not where secrets live but are full of hashes that look like them.
LOCK_FILES = {"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "pipfile.lock", "cargo.lock",
              "go.sum", "composer.lock", "gemfile.lock", "uv.lock", "bun.lockb"}
DOTENV = re.compile(r"^(?:\.env(?:\.[\w.-]+)?|[\w.-]+\.env)$", re.IGNORECASE)
DOTENV_TEMPLATE = re.compile(r"(?:^|[.-])(?:example|sample|template|tmpl|tpl|dist|defaults?|schema)(?:$|\.)",
                             re.IGNORECASE)

STRIPE_SECRET = re.compile(r"\b(?P<s>(?:sk|rk)_(?P<mode>live|test)_[0-9A-Za-z]{16,247})\b")
STRIPE_WEBHOOK = re.compile(r"\b(?P<s>whsec_[0-9A-Za-z]{24,})\b")
OPENAI_KEY = re.compile(r"(?<![\w-])(?P<s>sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{16,}"
                        r"|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,})")
ANTHROPIC_KEY = re.compile(r"(?<![\w-])(?P<s>sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{32,})")
GITHUB_TOKEN = re.compile(r"\b(?P<s>gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{50,255})\b")
AWS_ACCESS_KEY = re.compile(r"\b(?P<s>(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16})\b")
AWS_SECRET = re.compile(r"(?i)aws.{0,20}?(?:secret|key).{0,20}?['\"=:\s]\s*['\"]?(?P<s>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])")
DATABASE_URL = re.compile(
    r"(?P<scheme>postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|cockroachdb)"
    r"(?:\+\w+)?://(?P<user>[^:@/\s'\"]*):(?P<s>[^@/\s'\"]+)@(?P<host>[^/:?\s'\"]+)")
PRIVATE_KEY = re.compile(r"-----BEGIN (?P<s>(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----")
ASSIGNMENT = re.compile(r"""(?ix)
    (?P<key>[a-z0-9_.-]*(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|apikey|private[_-]?key|access[_-]?key
                           |credential|auth[_-]?key)[a-z0-9_.-]*)
    ["']?\s*(?::=|=>|=|:)\s*(?P<q>["'`]?)(?P<s>[A-Za-z0-9+/=_.~-]{16,})(?P=q)(?![A-Za-z0-9+/=_.~(-])""")
TOKEN = re.compile(r"[A-Za-z0-9+/=_.~-]{16,}")
CODE_SUFFIXES = (".py", ".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".rb", ".go", ".java", ".kt", ".php", ".cs",
                 ".swift", ".rs", ".scala", ".c", ".h", ".cpp", ".vue", ".svelte", ".dart", ".ex", ".exs")
SECRETISH_LINE = re.compile(r"(?i)secret|token|passw|pwd|api[_-]?key|apikey|private|credential|auth[_-]?key")
SECRETISH_LOWER = re.compile(SECRETISH_LINE.pattern.removeprefix("(?i)"))  # run on lower-cased text: faster
LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "db", "postgres", "mysql", "redis", "database",
               "host.docker.internal"}
PLACEHOLDER = re.compile(r"""(?ix)^(?:
    (?:change|replace)[-_]?me.*|x{3,}|\*{3,}|\.{3,}|-+|<[^>]*>|\{\{.*\}\}|\$\{.*\}|\$[a-z_][a-z0-9_]*|%\(.*\)s?
    |(?:my|your|the)[-_].*|[^.]*(?:example|sample|placeholder|dummy|fake|redacted|changeme|foobar|lorem|insert|todo)[^.]*
    |password\d*|passwd|secret\d*|test\d*|pass|admin|root|none|null|undefined|true|false)$""")

# detect-secrets detectors for vendors we have no rule of our own for (our rules win on overlapping matches).
DS_VENDOR_DETECTORS = (ArtifactoryDetector(), AzureStorageKeyDetector(), DiscordBotTokenDetector(),
                       GitLabTokenDetector(), MailchimpDetector(), NpmDetector(), PypiTokenDetector(),
                       SendGridDetector(), SlackDetector(), SquareOAuthDetector(), TelegramBotTokenDetector(),
                       TwilioKeyDetector())
# A whole JWT, signature included (detect-secrets' pattern stops after the payload).
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")
# Cross-checks: a key format we also match ourselves; if detect-secrets finds one we missed, it still counts.
DS_OWN_KIND = ((StripeDetector(), "stripe_live"), (OpenAIDetector(), "openai_key"),
               (GitHubTokenDetector(), "github_token"), (AWSKeyDetector(), "aws_key"),
               (BasicAuthDetector(), "credentials_in_url"))
DS_PRIVATE_KEY = PrivateKeyDetector()
DS_KEYWORD = KeywordDetector()
DS_ENTROPY = (Base64HighEntropyString(limit=4.5), HexHighEntropyString(limit=3.0))


@dataclass(frozen=True)
class Hit:
    rule: str
    secret: str  # in memory only: never put in a Finding, a log record or an exception
    line: int
    display: str  # masked form, safe to show

    def __repr__(self):  # a stray print or traceback must not reveal the secret either
        return f"Hit(rule={self.rule!r}, line={self.line}, display={self.display!r})"


def mask(secret: str) -> str:
    """First 4 and last 2 characters of a long secret; less of a short one; nothing of a very short one."""
    if len(secret) >= 16:
        return f"{secret[:4]}…{secret[-2:]}"
    if len(secret) >= 10:
        return f"{secret[:2]}…"
    return "…"


def entropy(value: str) -> float:
    if not value:
        return 0.0
    counts = {c: value.count(c) for c in set(value)}
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def jwt_claim(token: str, claim: str):
    """One claim of a JWT's payload, read without verifying anything (it only sorts a finding)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get(claim)
    except (IndexError, ValueError, AttributeError, binascii.Error):
        return None


def is_placeholder(value: str) -> bool:
    value = value.strip().strip("'\"")
    return (not value or bool(PLACEHOLDER.match(value)) or heuristic.is_potential_uuid(value)
            or heuristic.is_sequential_string(value) or heuristic.is_templated_secret(value)
            or len(set(value)) <= 3)


def is_dotenv_path(path: str) -> bool:
    name = basename(path)
    return bool(DOTENV.match(name)) and not DOTENV_TEMPLATE.search(name[1:] if name.startswith(".") else name)


def dotenv_names_with_values(text: str) -> list[str]:
    """Names in a committed .env whose values are real (not empty, not a placeholder); values are dropped."""
    from .envvars import iter_env_assignments

    return [name for name, value in iter_env_assignments(text) if not is_placeholder(value)]


def skip_file(path: str) -> bool:
    return basename(path).lower() in LOCK_FILES


# Literals (lower case) without which a detector cannot match: a file lacking all of them skips that regex.
OWN_GUARDS = ((STRIPE_SECRET, ("k_live_", "k_test_")), (STRIPE_WEBHOOK, ("whsec_",)), (OPENAI_KEY, ("sk-",)),
              (ANTHROPIC_KEY, ("sk-ant-",)), (GITHUB_TOKEN, ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
              (AWS_ACCESS_KEY, ("akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa")),
              (AWS_SECRET, ("aws",)), (DATABASE_URL, ("://",)), (PRIVATE_KEY, ("private key",)),
              (JWT, ("eyj",)), (SECRETISH_LOWER, None))
DS_GUARDS = {ArtifactoryDetector: ("akc", "ap"), MailchimpDetector: ("-us",), SlackDetector: ("xox", "hooks.slack"),
             StripeDetector: ("k_live_",), AWSKeyDetector: ("aws", "akia", "asia", "a3t", "agpa", "aida", "aroa",
                                                             "aipa", "anpa", "anva"),
             BasicAuthDetector: ("://",), PrivateKeyDetector: ("private key", "putty"), NpmDetector: ("npm",),
             PypiTokenDetector: ("pypi-",), SendGridDetector: ("sg.",), GitHubTokenDetector: ("gh",),
             GitLabTokenDetector: ("gl",), SquareOAuthDetector: ("sq0",),
             OpenAIDetector: ("sk-",), AzureStorageKeyDetector: ("accountkey",)}


def _trigger_patterns() -> list[tuple[re.Pattern, tuple[str, ...] | None]]:
    """Every pattern that can start a hit, recompiled per line (re.M), each with its literal guard."""
    triggers = [(re.compile(p.pattern, p.flags | re.MULTILINE), guard) for p, guard in OWN_GUARDS]
    for detector in (*DS_VENDOR_DETECTORS, *(d for d, _ in DS_OWN_KIND), DS_PRIVATE_KEY):
        guard = DS_GUARDS.get(type(detector))
        triggers += [(re.compile(p.pattern, p.flags | re.MULTILINE), guard) for p in detector.denylist]
    return triggers


TRIGGERS = _trigger_patterns()
SECRETISH_TRIGGER = TRIGGERS[len(OWN_GUARDS) - 1][0]


def candidate_lines(text: str) -> list[int]:
    """0-based numbers of the lines any detector could match; the rest of the file needs no line-by-line look."""
    lower = text.lower()
    newlines = None
    found = set()
    for pattern, guard in TRIGGERS:
        if guard is not None and not any(literal in lower for literal in guard):
            continue
        for m in pattern.finditer(lower if pattern is SECRETISH_TRIGGER else text):
            if newlines is None:
                newlines = [n.start() for n in re.finditer("\n", text)]
            found.add(bisect_left(newlines, m.start()))
    return sorted(found)


def scan_text(path: str, text: str) -> list[Hit]:
    """Every secret in one file's text, at most one hit per (rule, secret) per line."""
    hits: list[Hit] = []
    if skip_file(path):
        return hits
    code = path.lower().endswith(CODE_SUFFIXES)
    lines = text.splitlines()
    for index in candidate_lines("\n".join(lines)):
        line = lines[index]
        if len(line) > 4096:  # minified bundles: look at the start only, a secret there is still caught
            line = line[:4096]
        hits.extend(scan_line(line, index + 1, code))
    return hits


def looks_like_token(value: str, line: str) -> bool:
    """Random-looking enough to be a credential: long, letters and digits mixed, high entropy, no placeholder."""
    return (bool(TOKEN.fullmatch(value)) and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
            and entropy(value) >= 3.5 and not is_placeholder(value)
            and not heuristic.is_likely_id_string(value, line))


def scan_line(line: str, number: int, code: bool = False) -> list[Hit]:
    found: dict[str, Hit] = {}

    def add(rule: str, secret: str, display: str | None = None):
        if secret in found or any(secret in s for s in found):
            return
        found[secret] = Hit(rule, secret, number, display or mask(secret))

    for m in STRIPE_SECRET.finditer(line):
        add("stripe_live" if m["mode"] == "live" else "stripe_test", m["s"])
    for m in STRIPE_WEBHOOK.finditer(line):
        add("stripe_webhook", m["s"])
    for m in ANTHROPIC_KEY.finditer(line):
        add("anthropic_key", m["s"])
    for m in OPENAI_KEY.finditer(line):
        add("openai_key", m["s"])
    for m in GITHUB_TOKEN.finditer(line):
        add("github_token", m["s"])
    for m in AWS_ACCESS_KEY.finditer(line):
        if "EXAMPLE" not in m["s"]:
            add("aws_key", m["s"])
    for m in AWS_SECRET.finditer(line):
        if not is_placeholder(m["s"]) and "EXAMPLE" not in m["s"]:
            add("aws_key", m["s"])
    for m in PRIVATE_KEY.finditer(line):
        add("private_key", m.group(0), f"-----BEGIN {m['s']}-----")
    for m in DATABASE_URL.finditer(line):
        if is_placeholder(m["s"]):
            continue
        host = m["host"].lower()
        rule = "database_url_local" if host in LOCAL_HOSTS or host.endswith(".local") else "database_url"
        add(rule, m["s"], f"{m['scheme']}://{m['user']}:{mask(m['s'])}@{m['host']}")
    if not any(h.rule == "private_key" for h in found.values()):
        for header in DS_PRIVATE_KEY.analyze_string(line):  # PuTTY and other formats we have no rule for
            add("private_key", header, header)
    for detector, rule in DS_OWN_KIND:
        for secret in detector.analyze_string(line):
            if rule == "stripe_live" or not is_placeholder(secret):
                add(rule, secret)
    for detector in DS_VENDOR_DETECTORS:
        for secret in detector.analyze_string(line):
            if not is_placeholder(secret):
                add("vendor_token", secret)
    for token in (m.group(0) for m in JWT.finditer(line)):
        add("supabase_service_key" if jwt_claim(token, "role") == "service_role" else "jwt", token)
    if SECRETISH_LINE.search(line) and not heuristic.is_indirect_reference(line):
        # In code only a quoted literal can be a secret; in config files (.env, YAML, INI) values stand bare.
        candidates = [m["s"] for m in ASSIGNMENT.finditer(line) if m["q"] or not code]
        candidates += list(DS_KEYWORD.analyze_string(line))
        for plugin in DS_ENTROPY:
            candidates += [s for s in plugin.analyze_string(line)
                           if plugin.calculate_shannon_entropy(s) > plugin.entropy_limit]
        for secret in candidates:
            secret = secret.strip("'\"`")
            if looks_like_token(secret, line):
                add("generic_secret", secret)
    return list(found.values())
