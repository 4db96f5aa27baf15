"""deploy.secrets_in_repo against fixture repositories built with git in temporary directories."""

import io
import json
import logging
import os
import subprocess
import tarfile
import zipfile

import pytest
from django.core.management import CommandError, call_command

from apps.checks.engine import NetworkProfile, Target, run_scan
from apps.checks.engine.repo import Limits, RepoError, extract_archive, safe_member_path
from apps.checks.engine.secretscan import mask
from tests.testworld.gitserver import GitServer

CHECK = "deploy.secrets_in_repo"
# Made-up secrets in each format (none is a real credential).
STRIPE_LIVE = "sk_live_51Hq8ZfLkPz3Qw7XyTr9Vb2Nm4Kc6Jd0Eh"
STRIPE_TEST = "sk_test_51Hq8ZfLkPz3Qw7XyTr9Vb2Nm4Kc6Jd0Eh"
OPENAI = "sk-proj-Z8x7C6v5B4n3M2q1W0e9R8t7Y6u5I4o3P2a1S0d9F8g7H6"
DB_PASSWORD = "Vq8rT2mLx9Zp4Wk7"
GITHUB = "ghp_Zq8rT2mLx9Zp4Wk7Vq8rT2mLx9Zp4Wk7Ab12"
PRIVATE_KEY = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7Zq8rT2mLx9Zp4Wk7Vq8rT2mLx9Zp4Wk7Vq8rT2mLx9Z\n"
               "p4Wk7Vq8rT2mLx9Zp4Wk7Vq8rT2mLx9Zp4Wk7Vq8rT2mLx9Zp4Wk7Vq8rT2mL\n-----END RSA PRIVATE KEY-----\n")
ALL_SECRETS = (STRIPE_LIVE, STRIPE_TEST, OPENAI, DB_PASSWORD, GITHUB, "MIIEowIBAAKCAQEA7Zq8rT2mLx9Zp4Wk7")

BAIT = {
    ".env.example": "# copy to .env\nEXAMPLE_KEY=changeme\nSTRIPE_SECRET_KEY=\nDATABASE_URL=postgres://user:password@localhost/app\n"
                    "OPENAI_API_KEY=your-openai-key-here\n",
    "app/ids.py": 'DEFAULT_TENANT = "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"\nREQUEST_ID = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"\n',
    "app/settings.py": 'import os\nSECRET_KEY = os.environ["SECRET_KEY"]\npassword = os.environ.get("DB_PASSWORD")\n'
                       'STRIPE_KEY = "${STRIPE_SECRET_KEY}"\napi_key = "<your api key>"\n',
    "package-lock.json": '{"integrity": "sha512-Zq8rT2mLx9Zp4Wk7Vq8rT2mLx9Zp4Wk7Vq8rT2mLx9Zp4Wk7Vq8rT2mLx9Zp4Wk7Vq8r"}\n',
    "README.md": "Set `STRIPE_SECRET_KEY=sk_live_...` in your host's settings.\n",
}


class Repo:
    """A git repository built step by step in a temporary directory."""

    ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Dev",
           "GIT_AUTHOR_EMAIL": "dev@example.test", "GIT_COMMITTER_NAME": "Dev",
           "GIT_COMMITTER_EMAIL": "dev@example.test", "PATH": os.environ["PATH"]}

    def __init__(self, path):
        self.path = path
        self.path.mkdir()
        self.clock = 1_700_000_000
        self.git("init", "-q", "-b", "main")

    def git(self, *args) -> str:
        return subprocess.run(["git", *args], cwd=self.path, env=self.ENV, check=True, capture_output=True,
                              text=True).stdout.strip()

    def commit(self, files: dict, message="change", remove=()) -> str:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            self.git("add", name)
        for name in remove:
            self.git("rm", "-q", name)
        self.clock += 60
        stamp = f"@{self.clock} +0000"
        subprocess.run(["git", "commit", "-q", "-m", message], cwd=self.path, check=True, capture_output=True,
                       env={**self.ENV, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp})
        return self.git("rev-parse", "HEAD")


def scan_repo(source, **options):
    target = Target.build("example.com", options={"repo": str(source), **options})
    return run_scan(target, NetworkProfile(check_timeout=60), only=[CHECK])


def repo_findings(result):
    found = [f for f in result.findings if f.check == CHECK]
    assert found, result.findings
    return found


def by_rule(result, rule):
    matches = [f for f in repo_findings(result) if f.evidence.get("rule") == rule]
    assert len(matches) == 1, [(f.status, f.evidence.get("rule"), f.summary) for f in repo_findings(result)]
    return matches[0]


@pytest.fixture
def clean_repo(tmp_path):
    repo = Repo(tmp_path / "clean")
    repo.commit(BAIT, "scaffold")
    repo.commit({"app/main.py": "print('hello')\n"}, "main")
    return repo


@pytest.fixture
def leaky_repo(tmp_path):
    """Secrets everywhere git keeps them: an old commit on another branch, a deleted .env, HEAD."""
    repo = Repo(tmp_path / "leaky")
    repo.commit(BAIT, "scaffold")
    repo.env_commit = repo.commit({".env": f"DATABASE_URL=postgres://app:{DB_PASSWORD}@db.prod.example.com/app\n"
                                           "DEBUG=\nGITHUB_TOKEN=" + GITHUB + "\n"}, "add env")
    repo.commit({}, "oops, remove env", remove=[".env"])
    repo.git("checkout", "-q", "-b", "feature/ai")
    repo.openai_commit = repo.commit({"bot/client.py": f'import openai\n\nclient = openai.OpenAI(api_key="{OPENAI}")\n'},
                                     "try the bot")
    repo.commit({"bot/client.py": "import openai\n\nclient = openai.OpenAI()\n"}, "use env")
    repo.git("checkout", "-q", "main")
    repo.commit({"deploy/id_rsa": PRIVATE_KEY, "billing.py": f'STRIPE_KEY = "{STRIPE_LIVE}"\n',
                 "tests/test_billing.py": f'\n\nTEST_KEY = "{STRIPE_TEST}"\n'}, "billing")
    return repo


def test_clean_repo_with_false_positive_bait_passes(clean_repo):
    found = repo_findings(scan_repo(clean_repo.path))
    assert [f.status for f in found] == ["pass"], [f.summary for f in found]
    assert found[0].evidence["scan"]["commits"] == 2
    assert found[0].evidence["refs"] == ["main"]
    assert found[0].target == "clean"


def test_stripe_live_key_in_head_is_a_blocker_and_no_go(leaky_repo):
    result = scan_repo(leaky_repo.path)
    f = by_rule(result, "stripe_live")
    assert (f.status, f.severity) == ("fail", "blocker")
    assert f.evidence["file"] == "billing.py" and f.evidence["line"] == 1
    assert f.evidence["in_head"] is True
    assert f.evidence["masked"] == "sk_l…Eh"
    assert f.evidence["commit"] == leaky_repo.git("rev-parse", "HEAD")
    assert "sk_l…Eh" in f.summary and "billing.py line 1" in f.summary
    assert result.decision == "no-go"


def test_stripe_test_key_only_warns(leaky_repo):
    f = by_rule(scan_repo(leaky_repo.path), "stripe_test")
    assert (f.status, f.severity) == ("warn", "low")
    assert (f.evidence["file"], f.evidence["line"]) == ("tests/test_billing.py", 3)


def test_secret_in_old_commit_on_another_branch_is_found_with_its_commit(leaky_repo):
    f = by_rule(scan_repo(leaky_repo.path), "openai_key")
    assert (f.status, f.severity) == ("fail", "high")
    assert f.evidence["commit"] == leaky_repo.openai_commit
    assert (f.evidence["file"], f.evidence["line"]) == ("bot/client.py", 3)
    assert f.evidence["in_head"] is False
    assert "feature/ai" in f.evidence["refs"] and "main" not in f.evidence["refs"]
    assert "no longer in HEAD" in f.summary


def test_deleted_dotenv_and_its_secrets_are_found(leaky_repo):
    result = scan_repo(leaky_repo.path)
    env = by_rule(result, "dotenv_file")
    assert (env.status, env.evidence["file"], env.evidence["in_head"]) == ("fail", ".env", False)
    assert env.evidence["commit"] == leaky_repo.env_commit
    assert env.evidence["names_with_values"] == "DATABASE_URL, GITHUB_TOKEN"  # names only; DEBUG is empty
    db = by_rule(result, "database_url")
    assert db.evidence["masked"] == "postgres://app:Vq8r…k7@db.prod.example.com"
    assert (db.evidence["file"], db.evidence["line"]) == (".env", 1)
    gh = by_rule(result, "github_token")
    assert (gh.evidence["line"], gh.evidence["masked"]) == (3, "ghp_…12")


def test_private_key_is_found(leaky_repo):
    f = by_rule(scan_repo(leaky_repo.path), "private_key")
    assert (f.status, f.evidence["file"], f.evidence["line"], f.evidence["in_head"]) == ("fail", "deploy/id_rsa", 1,
                                                                                        True)
    assert f.evidence["masked"] == "-----BEGIN RSA PRIVATE KEY-----"


def test_no_full_secret_reaches_findings_or_logs(leaky_repo, caplog):
    caplog.set_level(logging.DEBUG)
    result = scan_repo(leaky_repo.path)
    rendered = json.dumps(result.to_dict()) + repr(result)
    assert len(repo_findings(result)) >= 6
    for secret in ALL_SECRETS:
        assert secret not in rendered
        assert secret not in caplog.text


def test_bait_is_not_flagged_next_to_real_secrets(leaky_repo):
    files = {f.evidence.get("file") for f in repo_findings(scan_repo(leaky_repo.path))}
    assert not files & {".env.example", "app/ids.py", "app/settings.py", "package-lock.json", "README.md"}


def test_long_lists_are_capped_with_a_summary_finding(leaky_repo):
    found = repo_findings(scan_repo(leaky_repo.path, repo_max_findings=2))
    assert len(found) == 3
    assert found[0].evidence["rule"] == "stripe_live"  # worst first
    more = [f for f in found if "more_by_rule" in f.evidence]
    assert more and more[0].status == "fail" and "not listed" in more[0].summary


def test_bundle_upload_is_scanned_like_the_repository(leaky_repo, tmp_path):
    bundle = tmp_path / "upload.bundle"
    leaky_repo.git("bundle", "create", str(bundle), "--all")
    result = scan_repo(bundle)
    assert {f.evidence.get("rule") for f in repo_findings(result)} >= {"stripe_live", "openai_key", "dotenv_file",
                                                                       "private_key"}
    assert by_rule(result, "openai_key").evidence["commit"] == leaky_repo.openai_commit
    assert repo_findings(result)[0].target == "upload.bundle"


def test_tar_gz_and_zip_uploads_of_a_working_copy_are_scanned(leaky_repo, tmp_path):
    tgz = tmp_path / "repo.tar.gz"
    with tarfile.open(tgz, "w:gz") as tf:
        tf.add(leaky_repo.path, arcname="leaky")
    zpath = tmp_path / "repo.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for root, _dirs, files in os.walk(leaky_repo.path):
            for name in files:
                full = os.path.join(root, name)
                zf.write(full, os.path.relpath(full, leaky_repo.path))
    for upload in (tgz, zpath):
        f = by_rule(scan_repo(upload), "stripe_live")
        assert f.status == "fail", upload


def test_archive_repository_config_and_alternates_are_not_used(leaky_repo, clean_repo, tmp_path):
    # A hostile upload: alternates pointing at another repository on this machine, a config that runs a program.
    git_dir = clean_repo.path / ".git"
    (git_dir / "objects" / "info").mkdir(exist_ok=True)
    (git_dir / "objects" / "info" / "alternates").write_text(str(leaky_repo.path / ".git" / "objects") + "\n")
    (git_dir / "refs" / "heads" / "stolen").write_text(leaky_repo.git("rev-parse", "HEAD") + "\n")
    marker = tmp_path / "pwned"
    with (git_dir / "config").open("a") as fh:
        fh.write(f"[core]\n\tfsmonitor = touch {marker}\n[uploadpack]\n\tpackObjectsHook = touch {marker}\n")
    tgz = tmp_path / "hostile.tar.gz"
    with tarfile.open(tgz, "w:gz") as tf:
        tf.add(clean_repo.path, arcname="clean")
    found = repo_findings(scan_repo(tgz))
    # The stolen branch's objects live only behind the (dropped) alternates: the fetch fails, nothing leaks in.
    assert [(f.status, f.evidence.get("error")) for f in found] == [("error", "git_failed")]
    assert not marker.exists()


def test_archive_members_cannot_escape_or_link(tmp_path):
    tgz = tmp_path / "evil.tar.gz"
    with tarfile.open(tgz, "w:gz") as tf:
        for name, data in (("../escaped.txt", b"x"), ("/abs.txt", b"x"), ("ok/file.txt", b"fine")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("ok/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
        hard = tarfile.TarInfo("ok/hard")
        hard.type, hard.linkname = tarfile.LNKTYPE, "../../escaped.txt"
        tf.addfile(hard)
    dest = tmp_path / "out" / "x"
    dest.parent.mkdir()
    extract_archive(tgz, "tar", dest, Limits())
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) == ["ok", "ok/file.txt"]
    assert not (tmp_path / "out" / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()
    assert not any(p.is_symlink() for p in dest.rglob("*"))
    assert safe_member_path("../x") is None and safe_member_path("/etc/passwd") is None
    assert safe_member_path("C:/x") is None and str(safe_member_path("./a/b")) == "a/b"


def test_zip_symlinks_and_size_bombs_are_refused(tmp_path):
    zpath = tmp_path / "bomb.zip"
    with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        link = zipfile.ZipInfo("link")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
        zf.writestr("zeros.bin", b"\0" * (3 * 1024 * 1024))
    dest = tmp_path / "out"
    with pytest.raises(RepoError) as exc:
        extract_archive(zpath, "zip", dest, Limits(max_bytes=1024 * 1024))
    assert exc.value.kind == "too_large"
    assert not (dest / "link").exists()


def test_archive_file_count_is_capped(clean_repo, tmp_path):
    tgz = tmp_path / "many.tar.gz"
    with tarfile.open(tgz, "w:gz") as tf:
        tf.add(clean_repo.path, arcname="clean")
    f = repo_findings(scan_repo(tgz, repo_max_files=5))[0]
    assert (f.status, f.evidence["error"]) == ("error", "too_many_files")


def test_oversized_repository_is_refused(leaky_repo):
    f = repo_findings(scan_repo(leaky_repo.path, repo_max_mb=0.001))[0]
    assert (f.status, f.evidence["error"]) == ("error", "too_large")


def test_temporary_directory_is_removed_after_success_error_and_timeout(leaky_repo, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert repo_findings(scan_repo(leaky_repo.path, repo_tmp_root=str(scratch)))[0].status == "fail"
    assert repo_findings(scan_repo(tmp_path / "missing", repo_tmp_root=str(scratch)))[0].status == "error"
    timed_out = repo_findings(scan_repo(leaky_repo.path, repo_tmp_root=str(scratch), repo_timeout_s=0.0001))[0]
    assert (timed_out.status, timed_out.evidence["error"]) == ("error", "timeout")
    assert list(scratch.iterdir()) == []


def test_upload_that_is_not_a_repository_is_an_error(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    f = repo_findings(scan_repo(junk))[0]
    assert (f.status, f.evidence["error"]) == ("error", "bad_upload")
    empty_tgz = tmp_path / "empty.tar.gz"
    with tarfile.open(empty_tgz, "w:gz") as tf:
        info = tarfile.TarInfo("readme.txt")
        tf.addfile(info, io.BytesIO(b""))
    f = repo_findings(scan_repo(empty_tgz))[0]
    assert f.evidence["error"] == "bad_upload" and "no git repository" in f.summary


def test_skipped_without_a_repository():
    result = run_scan(Target.build("example.com"), NetworkProfile(), only=[CHECK])
    f = repo_findings(result)[0]
    assert f.status == "skipped" and "bundle" in f.remediation


@pytest.mark.parametrize("url, kind", [
    ("http://github.example/acme/app.git", "bad_url"),
    ("git@github.com:acme/app.git", "not_found"),
    ("ssh://git@github.example/acme/app.git", "bad_url"),
    ("https://user:tok3n@github.example/acme/app.git", "bad_url"),
    ("https://127.0.0.1/acme/app.git", "refused_address"),
    ("https://[::ffff:10.0.0.1]/acme/app.git", "refused_address"),
])
def test_remote_urls_are_refused_unless_https_and_public(url, kind):
    f = repo_findings(scan_repo(url))[0]
    assert (f.status, f.evidence["error"]) == ("error", kind)
    assert "tok3n" not in json.dumps(f.to_dict())


def test_remote_host_resolving_to_a_refused_address_is_not_cloned(testworld):
    # good.lrtest resolves to 127.0.0.2; with the production guard (nothing allowed) git must never start.
    before = testworld.connections["127.0.0.2"]
    target = Target.build("good.lrtest", options={"repo": "https://good.lrtest/acme/app.git"})
    result = run_scan(target, testworld.profile(allowed_networks=()), only=[CHECK])
    f = repo_findings(result)[0]
    assert (f.status, f.evidence["error"]) == ("error", "refused_address")
    assert "loopback" in f.summary
    assert testworld.connections["127.0.0.2"] == before


def test_remote_clone_goes_only_to_the_guarded_address(testworld):
    # The test world serves no git repository there: git reaches the pinned address (through the port map and
    # the test CA) and fails cleanly, as an error finding.
    before = testworld.connections["127.0.0.2"]
    target = Target.build("good.lrtest", options={"repo": "https://good.lrtest/acme/app.git"})
    f = repo_findings(run_scan(target, testworld.profile(check_timeout=20), only=[CHECK]))[0]
    assert (f.status, f.evidence["error"]) == ("error", "git_failed")
    assert testworld.connections["127.0.0.2"] > before


def test_unknown_remote_host_is_an_error(testworld):
    target = Target.build("good.lrtest", options={"repo": "https://nothere.lrtest/acme/app.git"})
    f = repo_findings(run_scan(target, testworld.profile(), only=[CHECK]))[0]
    assert (f.status, f.evidence["error"]) == ("error", "nxdomain")


def test_mask_shows_little_of_short_secrets():
    assert mask("sk_live_0123456789abcdef") == "sk_l…ef"
    assert mask("abcdefghijkl") == "ab…"
    assert mask("short") == "…"


def run_cli(*args):
    out = io.StringIO()
    call_command("scan", "example.com", *args, stdout=out)
    return out.getvalue()


def test_cli_repo_option_scans_the_repository(leaky_repo):
    doc = json.loads(run_cli("--repo", str(leaky_repo.path), "--only", CHECK, "--json"))
    rules = {f["evidence"].get("rule") for f in doc["findings"]}
    assert {"stripe_live", "openai_key", "private_key"} <= rules
    assert doc["decision"] == "no-go"
    assert STRIPE_LIVE not in json.dumps(doc)
    table = run_cli("--repo", str(leaky_repo.path), "--only", CHECK)
    assert "sk_l…Eh" in table and STRIPE_LIVE not in table


@pytest.mark.parametrize("repo", ["http://github.example/a.git", "/no/such/repo", "https://"])
def test_cli_rejects_bad_repo_arguments(repo):
    with pytest.raises(CommandError) as exc:
        run_cli("--repo", repo)
    assert exc.value.returncode == 2 and "--repo" in str(exc.value)


@pytest.fixture
def git_host(testworld, tmp_path):
    cert, key = testworld.ca.files["valid"]
    root = tmp_path / "served"
    root.mkdir()
    with GitServer(root, cert, key) as server:
        yield server


def test_remote_https_clone_through_the_guard_finds_history_secrets(testworld, git_host, leaky_repo, tmp_path):
    url = git_host.publish(leaky_repo.path, "leaky")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    target = Target.build("good.lrtest", options={"repo": url, "repo_tmp_root": str(scratch)})
    result = run_scan(target, testworld.profile(check_timeout=60), only=[CHECK])
    f = by_rule(result, "openai_key")
    assert f.evidence["commit"] == leaky_repo.openai_commit and "feature/ai" in f.evidence["refs"]
    assert by_rule(result, "stripe_live").target == "127.0.0.1/leaky.git"
    assert any(p.startswith("/leaky.git/info/refs") for p in git_host.requests)
    assert list(scratch.iterdir()) == []


def test_remote_clone_is_refused_by_the_production_guard(testworld, git_host, leaky_repo):
    url = git_host.publish(leaky_repo.path, "leaky")
    result = run_scan(Target.build("good.lrtest", options={"repo": url}), testworld.profile(allowed_networks=()),
                      only=[CHECK])
    f = repo_findings(result)[0]
    assert (f.status, f.evidence["error"]) == ("error", "refused_address")
    assert git_host.requests == []


def test_remote_redirects_are_not_followed(testworld, git_host, leaky_repo, tmp_path):
    git_host.publish(leaky_repo.path, "leaky")
    cert, key = testworld.ca.files["valid"]
    (tmp_path / "empty").mkdir()
    with GitServer(tmp_path / "empty", cert, key, redirect_to=f"https://127.0.0.1:{git_host.port}") as hop:
        target = Target.build("good.lrtest", options={"repo": hop.url("leaky")})
        f = repo_findings(run_scan(target, testworld.profile(check_timeout=30), only=[CHECK]))[0]
    assert (f.status, f.evidence["error"]) == ("error", "git_failed")
    assert hop.requests and git_host.requests == []


def test_secret_added_while_resolving_a_merge_is_attributed_to_the_merge(tmp_path):
    repo = Repo(tmp_path / "merge")
    repo.commit({"config.py": "A = 1\n"}, "base")
    repo.git("checkout", "-q", "-b", "side")
    repo.commit({"side.py": "B = 2\n"}, "side work")
    repo.git("checkout", "-q", "main")
    repo.commit({"main.py": "C = 3\n"}, "main work")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "side")
    (repo.path / "config.py").write_text(f'A = 1\nGITHUB = "{GITHUB}"\n')
    repo.git("add", "config.py")
    merge = repo.commit({}, "merge side")
    f = by_rule(scan_repo(repo.path), "github_token")
    assert (f.evidence["commit"], f.evidence["file"], f.evidence["line"]) == (merge, "config.py", 2)


def test_scan_that_runs_out_of_time_reports_what_it_could_not_see(leaky_repo, tmp_path):
    import time

    from apps.checks.engine.repo import (
        Git,
        ScanReport,
        findings_for,
        reachable_blobs,
        read_history,
        scan_blobs,
    )

    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(leaky_repo.path), str(bare)], check=True)
    git = Git(tmp_path, time.monotonic() + 30)
    report = ScanReport()
    gd = ["--git-dir", str(bare)]
    read_history(git, gd, report)
    blobs = reachable_blobs(git, gd, Limits(), report)
    # As if the scan had used up its budget: less than its reserve for attribution is left.
    git.started, git.deadline = time.monotonic() - 1000, time.monotonic() + 1
    scan_blobs(git, gd, blobs, Limits(), report)
    assert report.incomplete.startswith(f"the time limit was reached after 0 of {len(blobs)} file versions")
    found = findings_for(report, "leaky", Limits())
    assert [(f.status, f.evidence["error"]) for f in found] == [("error", "incomplete")]


def test_empty_repository_is_skipped(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path / "empty")], check=True)
    f = repo_findings(scan_repo(tmp_path / "empty"))[0]
    assert f.status == "skipped" and "no commits" in f.summary


def test_encrypted_or_broken_archives_are_bad_uploads(tmp_path):
    broken = tmp_path / "broken.tar.gz"
    with tarfile.open(broken, "w:gz") as tf:
        info = tarfile.TarInfo("repo/file.txt")
        info.size = 10
        tf.addfile(info, io.BytesIO(b"0123456789"))
    broken.write_bytes(broken.read_bytes()[:40])  # cut short: header says gzip, body is gone
    f = repo_findings(scan_repo(broken))[0]
    assert (f.status, f.evidence["error"]) == ("error", "bad_upload")
    encrypted = tmp_path / "enc.zip"
    with zipfile.ZipFile(encrypted, "w") as zf:
        zf.writestr("repo/file.txt", "x")
    raw = bytearray(encrypted.read_bytes())
    for offset in (6, raw.rindex(b"PK\x01\x02") + 8):  # set the "encrypted" flag in the local and central headers
        raw[offset] |= 0x01
    encrypted.write_bytes(bytes(raw))
    f = repo_findings(scan_repo(encrypted))[0]
    assert (f.status, f.evidence["error"]) == ("error", "bad_upload")


def make_jwt(payload: dict) -> str:
    import base64

    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.Zq8rT2mLx9Zp4Wk7Vq8rT2mLx9Zp4Wk7Vq8rT2m"


def test_supabase_service_role_key_fails_but_anon_key_only_warns(tmp_path):
    repo = Repo(tmp_path / "supa")
    service = make_jwt({"iss": "supabase", "role": "service_role"})
    anon = make_jwt({"iss": "supabase", "role": "anon"})
    repo.commit({"lib/supabase.ts": f'export const admin = createClient(url, "{service}")\n'
                                    f'export const client = createClient(url, "{anon}")\n'})
    result = scan_repo(repo.path)
    assert (by_rule(result, "supabase_service_key").status, by_rule(result, "jwt").status) == ("fail", "warn")
    assert service not in json.dumps(result.to_dict()) and anon not in json.dumps(result.to_dict())


def test_secret_in_a_renamed_file_is_still_in_head_under_its_new_name(tmp_path):
    repo = Repo(tmp_path / "moved")
    first = repo.commit({"old/keys.py": f'KEY = "{STRIPE_LIVE}"\n'}, "keys")
    repo.git("mv", "old/keys.py", "settings_keys.py")
    repo.commit({}, "move")
    f = by_rule(scan_repo(repo.path), "stripe_live")
    assert (f.evidence["commit"], f.evidence["file"]) == (first, "old/keys.py")
    assert (f.evidence["in_head"], f.evidence["head_file"], f.evidence["head_line"]) == (True, "settings_keys.py", 1)
