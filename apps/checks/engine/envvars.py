"""Stage 1-2 env-var checks: audit.env_parity and deploy.env_complete. Names only, never values.

Inputs (Target.options, plain data built by the CLI or the product):
- `env_inventory`: [{"name": "STRIPE_SECRET_KEY", "environments": ["staging", "production"], "required": true,
  "secret": true}, ...] — the EnvVar rows of a client;
- `env_files`: {"staging": ["NAME", ...], "production": [...], "example": [...]} — names parsed from uploaded
  `.env.example`-style files with `parse_env_names` (the values were dropped while parsing). The `example`
  environment is the app's own template: every name in it is needed in production.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .registry import check
from .runner import make_finding

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
BARE_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")  # a line with only a name must look like one, not like data
ENV_ALIASES = {"prod": "production", "production": "production", "live": "production", "prd": "production",
               "stage": "staging", "staging": "staging", "stg": "staging",
               "example": "example", "template": "example", "sample": "example"}
TEMPLATE_ENV = "example"
MAX_LISTED = 50


# Shapes of well-known credentials: such a "name" is a pasted value.
CREDENTIAL_SHAPES = re.compile(
    r"^(?:[sr]k_(?:live|test)_|pk_live_|whsec_|gh[pousr]_|github_pat_|glpat-|xox[abpr]-|sk-|eyJ)"
    r"|^(?:AKIA|ASIA)[0-9A-Z]{16}$|^AIza[0-9A-Za-z_-]{35}$"
)


# A URL carrying a password (postgres://app:secret@db/app — the classic DATABASE_URL value).
URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^\s/@:]*:[^\s/@]+@", re.IGNORECASE)
HEX_OR_UUID = re.compile(r"^(?:[0-9a-f]{20,}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})$", re.IGNORECASE)
# A TOTP seed or an API key in capitals: letters and digits, no underscore, long (names are words joined by "_").
CAPS_TOKEN = re.compile(r"^(?=[A-Z0-9]*\d)[A-Z0-9]{16,}$")


def looks_like_a_value(text):
    """True for text that is probably a secret rather than a name or a place: a credential's shape, an
    assignment, a URL with a password, a hex or UUID token, a long capitals-and-digits token without "_", or a long
    unbroken token mixing lower case, upper case and digits."""
    if "=" in text or URL_WITH_PASSWORD.search(text):
        return True
    for token in text.split():
        if CREDENTIAL_SHAPES.search(token) or HEX_OR_UUID.match(token) or CAPS_TOKEN.match(token):
            return True
        mixed = (any(c.islower() for c in token) and any(c.isupper() for c in token)
                 and any(c.isdigit() for c in token))
        if len(token) >= 20 and mixed:
            return True
    return False


def iter_env_assignments(text: str) -> Iterator[tuple[str, str]]:
    """(name, value) pairs of a dotenv text; the caller decides what to keep. Multi-line quoted values are one.

    Lines that may be part of a value are never taken for names: an unquoted PEM block is skipped to its END line,
    a bare line counts as a name only in a plain list of names (no assignment anywhere: in a .env it is the rest of
    a value pasted without quotes, e.g. a key on the line after `API_KEY=`), and `X==…` reads as base64 padding."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    names_list = not any("=" in line for line in lines if not line.strip().startswith("#"))
    i = 0
    while i < len(lines):
        line = lines[i].strip().lstrip("\ufeff")
        i += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[7:].lstrip()
        name, sep, rest = line.partition("=")
        name = name.strip()
        if not sep:
            # (a bare "name" shaped like a credential — AKIA…, a TOTP seed — is a value on its own line)
            if names_list and BARE_NAME.match(name) and not looks_like_a_value(name):
                yield name, ""
            continue
        if not NAME.match(name) or rest.startswith("="):
            continue
        rest = rest.lstrip()
        if rest.startswith("-----BEGIN") and "-----END" not in rest:
            while i < len(lines) and "-----END" not in lines[i]:
                i += 1
            i += 1
            yield name, rest  # a value, for callers that judge values (the committed-.env check)
            continue
        quote = rest[:1] if rest[:1] in ("'", '"', "`") else ""
        if quote:
            body = rest[1:]
            # A quoted value may span lines (PEM keys): swallow lines until the closing quote.
            while quote not in body and i < len(lines):
                body += "\n" + lines[i]
                i += 1
            value = body.split(quote, 1)[0]
        else:
            value = rest.split(" #", 1)[0].strip()
        yield name, value


def parse_env_names(text: str) -> list[str]:
    """Variable names of a `.env`-style text, in order, once each. Values are discarded as they are read."""
    return list(dict.fromkeys(name for name, _value in iter_env_assignments(text)))


def normalise_environment(name: str) -> str:
    key = str(name).strip().lower()
    return ENV_ALIASES.get(key, key)


def names_by_environment(target) -> dict[str, set[str]]:
    """Every environment's names, from the inventory and the uploaded files together."""
    envs: dict[str, set[str]] = {}
    for row in inventory(target):
        for env in row.get("environments") or ():
            envs.setdefault(normalise_environment(env), set()).add(row["name"])
    for env, names in (target.option("env_files", {}) or {}).items():
        envs.setdefault(normalise_environment(env), set()).update(n for n in names if NAME.match(str(n)))
    return envs


def inventory(target) -> list[dict]:
    return [row for row in (target.option("env_inventory", []) or [])
            if isinstance(row, dict) and NAME.match(str(row.get("name", "")))]


def listed(names) -> list[str]:
    return sorted(names)[:MAX_LISTED]


ADVICE = ("List the app's environment variables (names only) in the client's inventory, or upload the "
          "`.env.example` of each environment.")


@check("audit.env_parity", scope="target")
async def env_parity(target, net):
    envs = names_by_environment(target)
    staging, production = envs.get("staging"), envs.get("production")
    if not staging or not production:
        have = sorted(env for env in ("staging", "production") if envs.get(env))
        return [make_finding("audit.env_parity", target.domain, "skipped",
                             "Not checked: the names of both staging and production variables are needed"
                             + (f" (only {have[0]} is declared)." if have else "."),
                             {"environments": sorted(envs)}, ADVICE)]
    missing_in_production = staging - production
    missing_in_staging = production - staging
    evidence = {"staging_count": len(staging), "production_count": len(production),
                "missing_in_production": listed(missing_in_production),
                "missing_in_staging": listed(missing_in_staging)}
    if not missing_in_production and not missing_in_staging:
        return [make_finding("audit.env_parity", target.domain, "pass",
                             f"Staging and production define the same {len(production)} variable names.", evidence)]
    parts = []
    if missing_in_production:
        parts.append(f"{len(missing_in_production)} missing in production "
                     f"({', '.join(listed(missing_in_production)[:5])})")
    if missing_in_staging:
        parts.append(f"{len(missing_in_staging)} missing in staging ({', '.join(listed(missing_in_staging)[:5])})")
    # Missing in production breaks the launch; missing in staging only means staging does not test what runs.
    status = "fail" if missing_in_production else "warn"
    return [make_finding("audit.env_parity", target.domain, status,
                         f"Staging and production variables differ: {'; '.join(parts)}.", evidence,
                         "Add the missing names to the environment that lacks them (or, if a variable is "
                         "intentionally environment-specific, note that in the inventory), then redeploy.")]


@check("deploy.env_complete", scope="target")
async def env_complete(target, net):
    rows = inventory(target)
    files = {normalise_environment(k): v for k, v in (target.option("env_files", {}) or {}).items()}
    required = {row["name"] for row in rows if row.get("required", True)}
    required |= {n for n in files.get(TEMPLATE_ENV, ()) if NAME.match(str(n))}
    if not required:
        return [make_finding("deploy.env_complete", target.domain, "skipped",
                             "Not checked: no required environment variables are declared.",
                             {"inventory_rows": len(rows), "files": sorted(files)}, ADVICE)]
    envs = names_by_environment(target)
    if not any(names for env, names in envs.items() if env != TEMPLATE_ENV):
        return [make_finding("deploy.env_complete", target.domain, "skipped",
                             "Not checked: the inventory does not say which environments each variable exists in.",
                             {"required_count": len(required)},
                             "Tick the environments (staging, production) of each variable in the inventory, or "
                             "upload the production `.env.example`-style file (names only).")]
    production = envs.get("production", set())
    missing = required - production
    secret = {row["name"] for row in rows if row.get("secret")}
    evidence = {"required_count": len(required), "production_count": len(production),
                "missing": listed(missing), "missing_secrets": listed(missing & secret)}
    if missing:
        return [make_finding("deploy.env_complete", target.domain, "fail",
                             f"{len(missing)} required variable(s) are not set in production: "
                             f"{', '.join(listed(missing)[:8])}{' …' if len(missing) > 8 else ''}.", evidence,
                             "Set each missing variable in production (your host's environment settings), "
                             "update the inventory, and redeploy before launch.")]
    return [make_finding("deploy.env_complete", target.domain, "pass",
                         f"All {len(required)} required variables exist in production.", evidence)]
