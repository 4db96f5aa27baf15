"""`python manage.py scan DOMAIN [options] [--json]`: the SPEC.md section 6 contract, no database needed."""

import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from apps.checks.engine import Target, run_scan
from apps.checks.engine.findings import ENDPOINT_KINDS
from apps.checks.engine.registry import selected
from apps.checks.engine.scoring import KNOWN_CHECK_IDS, worst_first
from apps.checks.envfile import EnvFileError, names_from_upload
from apps.checks.profiles import get_profile

LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
ENV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


def bad(reason: str):
    raise CommandError(reason, returncode=2)


def hostname(value: str, what: str) -> str:
    try:
        name = value.strip().rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        bad(f"{what} {value!r} is not a valid hostname")
    labels = name.split(".")
    if len(name) > 253 or not all(LABEL.match(label) for label in labels) or labels[-1].isdigit():
        bad(f"{what} {value!r} is not a valid hostname")
    return name


def repo_and_env_options(opts) -> dict:
    """--repo and --env-file: env files are read here and reduced to names, so no value enters the engine."""
    options = {}
    if opts["repo"]:
        repo = opts["repo"]
        if "://" in repo:
            if urlsplit(repo).scheme != "https" or not urlsplit(repo).hostname:
                bad(f"--repo {repo!r} must be an https:// clone URL or a local path")
        elif not Path(repo).exists():
            bad(f"--repo {repo!r}: no such file or directory")
        options["repo"] = repo
    env_files: dict[str, list[str]] = {}
    for raw in opts["env_file"]:
        env, sep, path = raw.partition("=")
        if not sep or not ENV_NAME.match(env) or not path:
            bad(f"--env-file {raw!r} must be ENV=PATH, e.g. production=.env.production")
        try:
            with open(path, "rb") as fh:
                names = names_from_upload(fh)
        except OSError as exc:
            bad(f"--env-file {raw!r}: {exc.strerror or exc}")
        except EnvFileError as exc:
            bad(f"--env-file {raw!r}: {exc}")
        env_files.setdefault(env.lower(), []).extend(names)
    if env_files:
        options["env_files"] = env_files
    return options


class Command(BaseCommand):
    help = "Scan a domain with the check engine, using the network profile from the environment."

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message):  # exit 2 with a one-line reason (argparse would add the usage block)
            if parser.called_from_command_line:
                sys.stderr.write(f"scan: {message}\n")
                sys.exit(2)
            raise CommandError(message, returncode=2)

        parser.error = one_line_error
        return parser

    def add_arguments(self, parser):
        parser.add_argument("domain")
        parser.add_argument("--host", action="append", default=[], metavar="NAME")
        parser.add_argument("--endpoint", action="append", default=[], metavar="KIND=URL")
        parser.add_argument("--dkim-selector", action="append", default=[], metavar="S")
        parser.add_argument("--spf-sender", action="append", default=[], metavar="INCLUDE")
        parser.add_argument("--only", action="append", default=[], metavar="PREFIX")
        parser.add_argument("--active", action="store_true")
        parser.add_argument("--rate", type=float, default=None)
        parser.add_argument("--duration", type=float, default=None)
        parser.add_argument("--chat-format", choices=["openai", "json"], default="openai")
        parser.add_argument("--chat-body", default=None, metavar="TEMPLATE")
        parser.add_argument("--chat-reply", default=None, metavar="PATH")
        parser.add_argument("--canary", action="append", default=[], metavar="TOKEN")
        # Extensions of SPEC section 6: a repository for deploy.secrets_in_repo, env files for the env checks.
        parser.add_argument("--repo", default=None, metavar="PATH_OR_URL")
        parser.add_argument("--env-file", action="append", default=[], metavar="ENV=PATH")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, **opts):
        target, only = self.build_target(opts)
        try:
            profile = get_profile("internet")
        except ImproperlyConfigured as exc:
            bad(str(exc))
        result = run_scan(target, profile, only or None, include_active=opts["active"])
        if opts["as_json"]:
            self.stdout.write(json.dumps(result.to_dict()))
        else:
            self.print_table(result)

    def build_target(self, opts) -> tuple[Target, list[str]]:
        domain = hostname(opts["domain"], "domain")
        if "." not in domain:
            bad(f"domain {opts['domain']!r} needs a dot (e.g. example.com)")
        hosts = []
        for raw in opts["host"]:
            name = hostname(raw, "--host")
            full = name if name == domain or name.endswith("." + domain) else f"{name}.{domain}"
            hosts.append(hostname(full, "--host"))
        endpoints = []
        for raw in opts["endpoint"]:
            kind, sep, url = raw.partition("=")
            if not sep or kind not in ENDPOINT_KINDS:
                bad(f"--endpoint {raw!r} must be KIND=URL with KIND one of {'|'.join(ENDPOINT_KINDS)}")
            try:
                parts = urlsplit(url)
                parts.port  # noqa: B018 - raises on a bad port
            except ValueError:
                bad(f"--endpoint {raw!r} is not a valid URL (bad port or host)")
            if parts.scheme not in ("http", "https") or not parts.hostname:
                bad(f"--endpoint {raw!r} needs an http(s) URL with a host")
            endpoints.append((kind, url))
        for selector in opts["dkim_selector"]:
            if not all(LABEL.match(label) for label in selector.lower().split(".")):
                bad(f"--dkim-selector {selector!r} is not a valid DNS label")
        senders = [hostname(s.removeprefix("include:"), "--spf-sender") for s in opts["spf_sender"]]
        for prefix in opts["only"]:
            if not prefix or not any(cid.startswith(prefix) for cid in KNOWN_CHECK_IDS):
                bad(f"--only {prefix!r} matches no check id")
            if not selected([prefix], include_active=opts["active"]):
                # A scan of nothing scores 100 and says GO: refuse it instead.
                bad(f"--only {prefix!r} selects no check this command runs (email.delivery, obs.* and "
                    f"handover.complete come from the product; perf.* and ai.* need --active)")
        for name in ("rate", "duration"):
            if opts[name] is not None and not opts[name] > 0:
                bad(f"--{name} must be a positive number")
        if opts["chat_body"] is not None:
            try:
                json.loads(opts["chat_body"].replace("{prompt}", "x"))
            except ValueError:
                bad("--chat-body must be JSON with a {prompt} placeholder")
            if "{prompt}" not in opts["chat_body"]:
                bad("--chat-body must contain a {prompt} placeholder")
        options = {key: opts[key] for key in ("rate", "duration", "chat_format", "chat_body", "chat_reply")
                   if opts[key] is not None}
        if opts["canary"]:
            options["canaries"] = opts["canary"]
        options.update(repo_and_env_options(opts))
        if opts["active"]:  # the CLI's operator vouches for ownership (SPEC section 6); the web product verifies
            options["operator_vouches"] = True
        target = Target.build(domain, hosts, endpoints, dkim_selectors=opts["dkim_selector"], spf_senders=senders,
                              options=options)
        return target, opts["only"]

    def print_table(self, result):
        out = self.stdout
        out.write(f"{result.domain}  score {result.score} ({result.grade})  decision {result.decision.upper()}  "
                  f"{len(result.findings)} findings in {result.duration_ms} ms")
        rows = [(f.status.upper(), f.severity, f.check, f.target, f.summary) for f in worst_first(result.findings)]
        widths = [max([len(r[i]) for r in rows] + [len(h)]) for i, h in enumerate(("STATUS", "SEVERITY", "CHECK",
                                                                                    "TARGET"))]
        header = ("STATUS", "SEVERITY", "CHECK", "TARGET", "SUMMARY")
        for row in [header, *rows]:
            out.write("  ".join(col.ljust(widths[i]) for i, col in enumerate(row[:4])) + "  " + row[4])
