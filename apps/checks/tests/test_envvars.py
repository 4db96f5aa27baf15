"""audit.env_parity, deploy.env_complete, parse_env_names and the upload helpers: names only, never values."""

import io
import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from apps.checks.engine import NetworkProfile, Target, run_scan
from apps.checks.engine.envvars import iter_env_assignments, parse_env_names
from apps.checks.envfile import EnvFileError, env_inventory, names_from_upload, record_env_names

VALUES = ("sk_live_51Hq8ZfLkPz3Qw7XyTr9Vb2Nm4Kc6Jd0Eh", "hunter2-Vq8rT2mLx9", "s3cr3t value with spaces",
          "MIIEowIBAAKCAQEA7Zq8rT2", "line-two-of-the-key", "inline-comment-value")
DOTENV = f"""\ufeff# production settings
export STRIPE_SECRET_KEY={VALUES[0]}
DATABASE_URL="postgres://app:{VALUES[1]}@db/app"

SESSION_SECRET='{VALUES[2]}'
  export   DEBUG=
PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----
{VALUES[3]}
{VALUES[4].upper().replace("-", "_")}
-----END RSA PRIVATE KEY-----"
SENTRY_DSN={VALUES[5]} # the DSN
BARE_NAME
not a line at all
lowercase_value_line
9STARTS_WITH_DIGIT=1
WINDOWS_LINE=1\r
"""
# BARE_NAME: in a file of assignments a line without "=" may be the rest of a value pasted without quotes.
NAMES = ["STRIPE_SECRET_KEY", "DATABASE_URL", "SESSION_SECRET", "DEBUG", "PRIVATE_KEY", "SENTRY_DSN", "WINDOWS_LINE"]


def assert_no_values(text: str):
    for value in (*VALUES, VALUES[4].upper().replace("-", "_"), "postgres://"):
        assert value not in text


def scan_env(**options):
    result = run_scan(Target.build("example.com", options=options), NetworkProfile(),
                      only=["audit.env_parity", "deploy.env_complete"])
    return {f.check: f for f in result.findings}


def row(name, *envs, required=True, secret=False):
    return {"name": name, "environments": list(envs), "required": required, "secret": secret}


# --- parsing ---------------------------------------------------------------------------------------------------

def test_parse_env_names_reads_names_and_drops_values(caplog):
    caplog.set_level(logging.DEBUG)
    names = parse_env_names(DOTENV)
    assert names == NAMES
    assert_no_values(json.dumps(names) + caplog.text)


def test_multiline_quoted_values_do_not_become_names():
    assert parse_env_names('KEY="abc\nDEF_GHI\n"\nNEXT=1') == ["KEY", "NEXT"]
    assert parse_env_names("A=1\nA=2\n# B=3\n=novalue\n") == ["A"]
    assert parse_env_names("") == []


def test_unquoted_multiline_values_do_not_become_names():
    # A PEM key pasted without quotes: its base64 lines ("…==" padding, or bare upper-case) are not names.
    key_line, aws_key = "SECRETPARTofTheKeyXyZ0123==", "AKIAIOSFODNN7EXAMPLE"
    pem = f"PRIVATE_KEY=-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n{key_line}\nABCDEFGHIJ\n" \
          f"-----END RSA PRIVATE KEY-----\nOTHER=1\nAPI_KEY=\n{aws_key}\nLAST=2\nPADDED==x\n"
    names = parse_env_names(pem)
    assert names == ["PRIVATE_KEY", "OTHER", "API_KEY", "LAST"]
    assert not {key_line.rstrip("="), aws_key, "ABCDEFGHIJ", "PADDED"} & set(names)
    assert parse_env_names("INLINE=-----BEGIN X----- abc -----END X-----\nNEXT=1") == ["INLINE", "NEXT"]
    # A plain list of names (no assignment anywhere) is still read as names.
    assert parse_env_names("# names\nSTRIPE_SECRET_KEY\nDATABASE_URL\nlowercase line\n") == [
        "STRIPE_SECRET_KEY", "DATABASE_URL"]


def test_assignments_give_values_only_to_the_caller():
    pairs = dict(iter_env_assignments('export A="x y" \nB=plain # c\nC=\n'))
    assert pairs == {"A": "x y", "B": "plain", "C": ""}


# --- audit.env_parity ------------------------------------------------------------------------------------------

def test_parity_passes_when_names_match():
    f = scan_env(env_inventory=[row("A", "staging", "production"), row("B", "staging", "prod")])["audit.env_parity"]
    assert f.status == "pass" and "same 2" in f.summary


def test_parity_fails_listing_names_missing_in_production():
    f = scan_env(env_inventory=[row("A", "staging", "production"), row("OPENAI_API_KEY", "staging")],
                 env_files={"production": ["A", "ONLY_PROD"]})["audit.env_parity"]
    assert (f.status, f.severity) == ("fail", "medium")
    assert f.evidence["missing_in_production"] == ["OPENAI_API_KEY"]
    assert f.evidence["missing_in_staging"] == ["ONLY_PROD"]
    assert "OPENAI_API_KEY" in f.summary and "ONLY_PROD" in f.summary


def test_parity_warns_when_only_staging_lacks_names():
    f = scan_env(env_files={"staging": ["A"], "production": ["A", "SENTRY_DSN"]})["audit.env_parity"]
    assert f.status == "warn"
    assert f.evidence["missing_in_staging"] == ["SENTRY_DSN"] and f.evidence["missing_in_production"] == []


def test_parity_skipped_without_both_environments():
    f = scan_env(env_files={"production": ["A"]})["audit.env_parity"]
    assert f.status == "skipped" and "only production" in f.summary and ".env.example" in f.remediation
    assert scan_env()["audit.env_parity"].status == "skipped"


# --- deploy.env_complete ---------------------------------------------------------------------------------------

def test_complete_passes_when_every_required_var_is_in_production():
    f = scan_env(env_inventory=[row("A", "production"), row("B", "staging", required=False)])["deploy.env_complete"]
    assert f.status == "pass" and f.evidence["required_count"] == 1


def test_complete_fails_as_blocker_naming_missing_vars():
    result = run_scan(Target.build("example.com", options={
        "env_inventory": [row("A", "production"), row("STRIPE_SECRET_KEY", "staging", secret=True)],
        "env_files": {"example": ["A", "STRIPE_SECRET_KEY", "RESEND_API_KEY"], "prod": ["A"]}}),
        NetworkProfile(), only=["deploy.env_complete"])
    f = result.findings[0]
    assert (f.status, f.severity) == ("fail", "blocker")
    assert f.evidence["missing"] == ["RESEND_API_KEY", "STRIPE_SECRET_KEY"]
    assert f.evidence["missing_secrets"] == ["STRIPE_SECRET_KEY"]
    assert "RESEND_API_KEY" in f.summary
    assert result.decision == "no-go"


def test_complete_skipped_with_advice_without_inventory():
    f = scan_env(env_files={"production": ["A"]})["deploy.env_complete"]
    assert f.status == "skipped" and "inventory" in f.remediation
    assert scan_env()["deploy.env_complete"].status == "skipped"


def test_values_never_reach_findings_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    names = parse_env_names(DOTENV)
    findings = scan_env(env_files={"production": names, "staging": names[:3], "example": names + ["MISSING"]})
    assert findings["deploy.env_complete"].status == "fail"
    assert_no_values(json.dumps([f.to_dict() for f in findings.values()]) + caplog.text)


# --- the product's upload helpers ------------------------------------------------------------------------------

def test_upload_to_env_var_rows_keeps_no_value(cast, caplog):
    caplog.set_level(logging.DEBUG)
    upload = SimpleUploadedFile(".env.production", DOTENV.encode(), content_type="text/plain")
    names = names_from_upload(upload)
    assert names == NAMES
    assert record_env_names(cast.nova, "prod", names) == {"created": NAMES, "updated": []}
    record_env_names(cast.nova, "staging", ["DATABASE_URL", "bad name"])
    rows = {v.name: v for v in cast.nova.env_vars.all()}
    assert rows["DATABASE_URL"].environments == ["production", "staging"]
    assert rows["DEBUG"].environments == ["production"]
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert_no_values(dump.getvalue() + caplog.text)
    inventory = env_inventory(cast.nova.env_vars.all())
    assert {"name": "DEBUG", "environments": ["production"], "required": True, "secret": False} in inventory


def test_example_upload_marks_names_required(cast):
    record_env_names(cast.nova, "example", ["OPENAI_API_KEY"])
    var = cast.nova.env_vars.get(name="OPENAI_API_KEY")
    assert var.required and var.environments == []


@pytest.mark.parametrize("content, message", [
    (b"x" * 300_000, "larger than"),
    (b"\x00\x01binary", "not a text file"),
    (b"# only comments\n\n", "No variable names"),
])
def test_bad_uploads_are_refused_without_quoting_them(content, message):
    with pytest.raises(EnvFileError) as exc:
        names_from_upload(io.BytesIO(content))
    assert message in str(exc.value) and "xxxx" not in str(exc.value)


# --- the scan CLI ----------------------------------------------------------------------------------------------

def test_cli_env_files_feed_both_checks_with_names_only(tmp_path):
    (tmp_path / "prod.env").write_text(DOTENV)
    (tmp_path / "staging.env").write_text("STRIPE_SECRET_KEY=sk_test_x\nSTAGING_ONLY=1\n")
    (tmp_path / ".env.example").write_text("STRIPE_SECRET_KEY=\nRESEND_API_KEY=\n")
    out = io.StringIO()
    call_command("scan", "example.com", "--env-file", f"production={tmp_path / 'prod.env'}",
                 "--env-file", f"staging={tmp_path / 'staging.env'}", "--env-file", f"example={tmp_path / '.env.example'}",
                 "--only", "audit.env_parity", "--only", "deploy.env_complete", "--json", stdout=out)
    doc = json.loads(out.getvalue())
    found = {f["check"]: f for f in doc["findings"]}
    assert found["deploy.env_complete"]["evidence"]["missing"] == ["RESEND_API_KEY"]
    assert found["audit.env_parity"]["evidence"]["missing_in_production"] == ["STAGING_ONLY"]
    assert_no_values(out.getvalue())


@pytest.mark.parametrize("arg", ["production", "=x", "prod=/no/such/file", "bad env=/etc/hostname"])
def test_cli_rejects_bad_env_file_arguments(arg):
    with pytest.raises(CommandError) as exc:
        call_command("scan", "example.com", "--env-file", arg, stdout=io.StringIO())
    assert exc.value.returncode == 2 and "--env-file" in str(exc.value)


def test_complete_skipped_when_no_environment_is_declared_anywhere():
    f = scan_env(env_inventory=[row("A"), row("B")])["deploy.env_complete"]
    assert f.status == "skipped" and "environments" in f.summary
    # Declared for staging only: production is known to lack it.
    assert scan_env(env_inventory=[row("A", "staging")])["deploy.env_complete"].status == "fail"


def test_names_shaped_like_credentials_are_dropped_and_huge_lists_refused():
    assert parse_env_names("STRIPE_SECRET_KEY\nAKIAIOSFODNN7EXAMPLE\nJBSWY3DPEHPK3PXP\nPORT\n") == [
        "STRIPE_SECRET_KEY", "PORT"]
    many = "\n".join(f"VAR_{n}=1" for n in range(501)).encode()
    with pytest.raises(EnvFileError) as exc:
        names_from_upload(io.BytesIO(many))
    assert "501 names" in str(exc.value)
