"""Stage 2 check deploy.secrets_in_repo: secrets anywhere in a git repository's history.

Target.options:
- `repo`: an https clone URL, a local path (tests, the CLI's operator), or the path of an uploaded git bundle,
  `.tar.gz` or `.zip` of a repository (private repos). Targets are built by trusted code (CLI, product), never
  straight from a form field: a local path is read as given.
- `repo_label`: how findings name the repository (default: the URL without credentials, or the file's name);
- caps: `repo_timeout_s` (120, and always under the profile's check timeout), `repo_max_mb` (256: the fetched
  repository and an unpacked archive), `repo_max_files` (100000 archive members), `repo_max_blob_kb` (1024),
  `repo_max_findings` (50); `repo_tmp_root`: where the temporary directory goes (default: the system's).

How: an empty bare repository is created in a temporary directory (always removed, also on error and timeout) and
every branch, tag and HEAD of the source is fetched into it, so the source's own config, hooks and alternates are
never used. Every blob reachable from any of those refs is scanned once (secretscan.py); one pass over
`git log --all --raw` tells which commit first brought each blob in. git runs with a deadline, no hooks, no
credential helpers or prompts, no proxy, only the one protocol needed, and for a remote only to the addresses
ScanNet's guard approved (pinned with http.curloptResolve, redirects off). Secrets only ever leave the scanner
masked.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import signal
import stat
import subprocess
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from secrets import token_bytes
from urllib.parse import urlsplit, urlunsplit

from . import secretscan
from .net import NetError
from .profile import parse_ip_literal
from .registry import check
from .runner import make_finding

log = logging.getLogger(__name__)

CHECK = "deploy.secrets_in_repo"
NULL_SHA = "0" * 40
SCAN_HEAD_REF = "refs/launchready/HEAD"
BUNDLE_SIGNATURES = (b"# v2 git bundle\n", b"# v3 git bundle\n")
BLOCKING = {"blocker", "high"}  # these severities fail; lower ones warn


class RepoError(Exception):
    """The repository could not be fetched or scanned. `kind` is a stable word; the message is for humans."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 120.0
    max_bytes: int = 256 * 1024 * 1024
    max_files: int = 100_000
    max_blob_bytes: int = 1024 * 1024
    max_findings: int = 50
    max_refs: int = 5000
    tmp_root: str | None = None

    @classmethod
    def from_target(cls, target, check_timeout: float) -> Limits:
        opt = target.option
        # Stay under the runner's per-check timeout so our own, more informative error wins the race.
        timeout = max(0.001, min(float(opt("repo_timeout_s", 120)), check_timeout - 1.0))
        return cls(timeout_s=timeout, max_bytes=int(float(opt("repo_max_mb", 256)) * 1024 * 1024),
                   max_files=int(opt("repo_max_files", 100_000)),
                   max_blob_bytes=int(float(opt("repo_max_blob_kb", 1024)) * 1024),
                   max_findings=int(opt("repo_max_findings", 50)), tmp_root=opt("repo_tmp_root", None))


@dataclass(frozen=True)
class Remote:
    """A clone URL the guard approved, and how git must reach it (only those addresses)."""

    url: str  # what git fetches (port rewritten through the profile's port map)
    host: str
    port: int
    addresses: tuple[str, ...]
    ca_bundle: str | None = None


@dataclass
class Occurrence:
    blob: str
    path: str
    line: int


@dataclass
class SecretSeen:
    rule: str
    display: str
    occurrences: list[Occurrence] = field(default_factory=list)


@dataclass
class ScanReport:
    commits: int = 0
    refs: list[str] = field(default_factory=list)
    blobs_scanned: int = 0
    blobs_skipped_large: int = 0
    blobs_skipped_binary: int = 0
    bytes_scanned: int = 0
    # Keyed by a keyed hash of the secret (key random per scan), so not even this dict holds a secret.
    secrets: dict[tuple, SecretSeen] = field(default_factory=dict)
    hash_key: bytes = field(default_factory=lambda: token_bytes(16), repr=False)
    introduced: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # blob -> (time, commit, path)
    head: dict[str, str] = field(default_factory=dict)  # blob -> path in HEAD
    contains: dict[str, list[str]] = field(default_factory=dict)  # commit -> refs containing it
    incomplete: str | None = None  # why the scan stopped early (time cap), if it did

    def stats(self) -> dict:
        return {"commits": self.commits, "refs": len(self.refs), "blobs_scanned": self.blobs_scanned,
                "blobs_skipped_large": self.blobs_skipped_large, "blobs_skipped_binary": self.blobs_skipped_binary,
                "bytes_scanned": self.bytes_scanned}


# --- the check -------------------------------------------------------------------------------------------------

@check(CHECK, scope="target")
async def secrets_in_repo(target, net):
    source = target.option("repo", None)
    if not source:
        return [make_finding(CHECK, target.domain, "skipped", "Not checked: no git repository was given.", {},
                             "Add the repository's https clone URL, or upload a git bundle "
                             "(`git bundle create repo.bundle --all`) for a private repository.")]
    source = str(source)
    label = str(target.option("repo_label", "") or repo_label(source))
    limits = Limits.from_target(target, net.profile.check_timeout)
    try:
        remote = await approve_remote(source, net) if "://" in source else None
        report = await asyncio.to_thread(scan_repository, source, remote, limits)
    except RepoError as exc:
        return [make_finding(CHECK, label, "error", f"Could not scan the repository: {exc.reason}",
                             {"error": exc.kind, "reason": exc.reason},
                             "Check that the URL is a public https clone URL (or upload a bundle of a private "
                             "repository) and that it is within the size limit, then scan again.")]
    log.info("repository %s scanned: %s, %d secret(s)", label, report.stats(), len(report.secrets))
    return findings_for(report, label, limits)


def repo_label(source: str) -> str:
    if "://" in source:
        parts = urlsplit(source)
        host = parts.hostname or ""
        return f"{host}{parts.path}".rstrip("/")
    return Path(source.rstrip("/")).name or source


async def approve_remote(source: str, net) -> Remote:
    """Only https, no credentials in the URL, and a host that resolves to addresses the guard allows."""
    parts = urlsplit(source)
    if parts.scheme != "https":
        raise RepoError("bad_url", "only https:// clone URLs are accepted (upload a bundle for anything else).")
    if parts.username or parts.password:
        raise RepoError("bad_url", "the URL carries credentials; upload a git bundle of a private repository "
                                   "instead of sharing a token.")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or 443
    except ValueError:
        raise RepoError("bad_url", "the URL has a bad port.") from None
    if not host:
        raise RepoError("bad_url", "the URL has no host.")
    literal = parse_ip_literal(host)
    try:
        if literal is not None:
            reason = net.profile.refusal_reason(literal)
            if reason:
                raise RepoError("refused_address", f"refused to connect: {reason}.")
            addresses = [str(literal)]
        else:
            addresses = await net.allowed_addresses(host)
    except NetError as exc:
        raise RepoError(exc.kind, f"{exc.reason}.") from None
    real_port = net.profile.port_for(port)
    netloc = host if real_port == 443 else f"{host}:{real_port}"
    url = urlunsplit(("https", netloc, parts.path, parts.query, ""))
    return Remote(url=url, host=host, port=real_port, addresses=tuple(addresses), ca_bundle=net.profile.ca_bundle)


def findings_for(report: ScanReport, label: str, limits: Limits) -> list:
    stats = report.stats()
    findings = []
    with_values = {s.occurrences[0].path for s in report.secrets.values() if s.rule == "dotenv_file"}
    shown = [s for s in report.secrets.values()
             if not (s.rule == "dotenv_file_empty" and s.occurrences[0].path in with_values)]
    seen = sorted(shown, key=lambda s: (secretscan.SEVERITY_RANK[secretscan.RULES[s.rule].severity], s.rule,
                                        s.occurrences[0].path))
    for secret in seen[:limits.max_findings]:
        findings.append(secret_finding(report, secret, label))
    hidden = seen[limits.max_findings:]
    if hidden:
        worst = secretscan.RULES[hidden[0].rule]
        counts: dict[str, int] = {}
        for s in hidden:
            counts[s.rule] = counts.get(s.rule, 0) + 1
        findings.append(make_finding(CHECK, label, "fail" if worst.severity in BLOCKING else "warn",
                                     f"{len(hidden)} more secret(s) in the repository are not listed one by one.",
                                     {"more_by_rule": counts, "scan": stats}, worst.remediation,
                                     severity=worst.severity))
    if report.incomplete:
        findings.append(make_finding(CHECK, label, "error", f"The scan stopped early: {report.incomplete}",
                                     {"error": "incomplete", "scan": stats},
                                     "Scan a bundle of the main branches only, or raise the time limit."))
    if not findings and not report.refs:
        findings.append(make_finding(CHECK, label, "skipped", "Not checked: the repository has no commits.",
                                     {"scan": stats}, "Push the application's code (or upload a bundle made with "
                                     "`git bundle create repo.bundle --all`) and scan again."))
    if not findings:
        findings.append(make_finding(CHECK, label, "pass",
                                     f"No secrets found in {report.commits} commit(s) across {len(report.refs)} "
                                     f"branch(es) and tag(s) ({report.blobs_scanned} file versions scanned).",
                                     {"scan": stats, "refs": report.refs[:50]}))
    return findings


def secret_finding(report: ScanReport, secret: SecretSeen, label: str):
    rule = secretscan.RULES[secret.rule]
    dated = [(report.introduced[o.blob][0], o) for o in secret.occurrences if o.blob in report.introduced]
    first = min(dated, key=lambda pair: pair[0])[1] if dated else secret.occurrences[0]
    commit = report.introduced.get(first.blob, (0, "", ""))[1]
    in_head = [o for o in secret.occurrences if o.blob in report.head]
    evidence = {
        "rule": secret.rule, "kind": rule.kind, "masked": secret.display,
        "commit": commit or None, "file": first.path, "line": first.line,
        "in_head": bool(in_head), "refs": report.contains.get(commit, [])[:20],
        "occurrences": len(secret.occurrences),
    }
    if in_head:
        evidence["head_file"], evidence["head_line"] = report.head[in_head[0].blob], in_head[0].line
    where = "still in HEAD" if in_head else "no longer in HEAD but still in the history"
    at = f"commit {commit[:10]}" if commit else "an unknown commit"
    status = "fail" if rule.severity in BLOCKING else "warn"
    if secret.rule == "dotenv_file":
        evidence["names_with_values"] = secret.display
        summary = (f"A .env file is committed at {first.path} ({at}, {where}); it sets values for "
                   f"{secret.display}.")
    elif secret.rule == "dotenv_file_empty":
        summary = f"A .env file without values is committed at {first.path} ({at}, {where})."
    else:
        summary = (f"{rule.kind[0].upper()}{rule.kind[1:]} {secret.display} is committed in {first.path} line "
                   f"{first.line} ({at}, {where}).")
    return make_finding(CHECK, label, status, summary, evidence, rule.remediation, severity=rule.severity)


# --- fetching --------------------------------------------------------------------------------------------------

class Git:
    """Runs git with a deadline, a clean environment and no way to prompt, run hooks or reach a proxy."""

    BASE_CONFIG = ("-c", "core.hooksPath=/dev/null", "-c", "credential.helper=", "-c", "core.askPass=",
                   "-c", "core.fsmonitor=false", "-c", "core.quotePath=false", "-c", "http.followRedirects=false",
                   "-c", "fetch.recurseSubmodules=false", "-c", "protocol.version=2", "-c", "gc.auto=0",
                   "-c", "transfer.fsckObjects=false", "-c", "core.sshCommand=false")

    def __init__(self, workdir: Path, deadline: float, protocols: str = "file"):
        self.started = time.monotonic()
        self.deadline = deadline
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir), "LC_ALL": "C",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "", "SSH_ASKPASS": "", "GCM_INTERACTIVE": "never", "GIT_ALLOW_PROTOCOL": protocols,
            "GIT_PROTOCOL_FROM_USER": "0", "GIT_NO_REPLACE_OBJECTS": "1", "GIT_OPTIONAL_LOCKS": "0",
        }

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def popen(self, args, *, config=(), stdin=subprocess.DEVNULL) -> subprocess.Popen:
        if self.remaining() <= 0:
            raise RepoError("timeout", "the scan ran out of time.")
        try:
            return subprocess.Popen(["git", *self.BASE_CONFIG, *config, *args], env=self.env, stdin=stdin,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        except FileNotFoundError:
            raise RepoError("no_git", "git is not installed on the scanner.") from None

    def run(self, args, *, config=(), input: bytes | None = None, watch: Path | None = None,
            max_bytes: int = 0, what: str = "git") -> str:
        """Run to completion; kill the whole process group at the deadline or when `watch` grows past max_bytes."""
        proc = self.popen(args, config=config, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL)
        try:
            while True:
                try:
                    out, err = proc.communicate(input, timeout=max(0.05, min(0.5, self.remaining())))
                    break
                except subprocess.TimeoutExpired:
                    input = None  # already handed over; communicate() keeps it
                    if self.remaining() <= 0:
                        raise RepoError("timeout", f"{what} did not finish within the time limit.") from None
                    if watch is not None and max_bytes and dir_size(watch) > max_bytes:
                        raise RepoError("too_large", f"the repository is larger than {max_bytes / 2**20:g} MB.") \
                            from None
        finally:
            kill(proc)
        if proc.returncode != 0:
            raise RepoError("git_failed", f"{what} failed: {first_line(err)}")
        if watch is not None and max_bytes and dir_size(watch) > max_bytes:
            raise RepoError("too_large", f"the repository is larger than {max_bytes / 2**20:g} MB.")
        return out.decode("utf-8", "replace")


def kill(proc: subprocess.Popen):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream:
            stream.close()


def first_line(err: bytes) -> str:
    lines = [ln.strip() for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    return ((fatal or lines or ["no details"])[0])[:300]


def dir_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def scan_repository(source: str, remote: Remote | None, limits: Limits) -> ScanReport:
    """Fetch `source` into a fresh temporary repository, scan it, and always remove the directory."""
    deadline = time.monotonic() + limits.timeout_s
    workdir = Path(tempfile.mkdtemp(prefix="lr-repo-", dir=limits.tmp_root))
    try:
        git = Git(workdir, deadline, "https" if remote else "file")
        bare = workdir / "scan.git"
        git.run(["init", "--bare", "--quiet", "--template=", str(bare)], what="git init")
        fetch_into(git, bare, source, remote, workdir, limits)
        return scan_bare(git, bare, limits)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")


def fetch_into(git: Git, bare: Path, source: str, remote: Remote | None, workdir: Path, limits: Limits):
    config: tuple[str, ...] = ()
    if remote:
        where = remote.url
        pinned = ",".join(f"[{ip}]" if ":" in ip else ip for ip in remote.addresses)
        config = ("-c", f"http.curloptResolve={remote.host}:{remote.port}:{pinned}",
                  "-c", "http.lowSpeedLimit=1000", "-c", "http.lowSpeedTime=20")
        if remote.ca_bundle:
            config += ("-c", f"http.sslCAInfo={remote.ca_bundle}")
    else:
        path = Path(source)
        if path.is_dir():
            where = str(path.resolve())
        elif path.is_file():
            kind = sniff(path)
            if kind == "bundle":
                where = str(path.resolve())
            else:
                extracted = workdir / "extracted"
                extract_archive(path, kind, extracted, limits, git.deadline)
                where = str(sanitised_git_dir(extracted))
        else:
            raise RepoError("not_found", "the repository path does not exist.")
    args = ["--git-dir", str(bare), "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-auto-gc",
            "--no-recurse-submodules", where]
    try:
        git.run([*args, *REFSPECS, f"+HEAD:{SCAN_HEAD_REF}"], config=config, watch=bare, max_bytes=limits.max_bytes,
                what="git fetch")
    except RepoError as exc:
        # A bundle may carry no HEAD, and an empty repository has none: fetch the branches alone.
        if exc.kind != "git_failed" or "HEAD" not in exc.reason:
            raise
        git.run([*args, *REFSPECS], config=config, watch=bare, max_bytes=limits.max_bytes, what="git fetch")


def sniff(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(32)
    if any(head.startswith(sig) for sig in BUNDLE_SIGNATURES):
        return "bundle"
    if zipfile.is_zipfile(path):
        return "zip"
    try:
        if tarfile.is_tarfile(path):
            return "tar"
    except (OSError, EOFError, tarfile.TarError):  # a truncated .tar.gz fails while being sniffed
        raise RepoError("bad_upload", "the archive is damaged (cut short?).") from None
    raise RepoError("bad_upload", "the upload is not a git bundle, .tar.gz or .zip.")


def safe_member_path(name: str) -> PurePosixPath | None:
    """A relative path inside the extraction root, or None for anything that could escape it."""
    if not name or "\x00" in name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return None
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return PurePosixPath(*parts)


def extract_archive(archive: Path, kind: str, dest: Path, limits: Limits, deadline: float | None = None):
    """Regular files and directories only (no links, devices or FIFOs), no escaping paths, capped in count and size.

    Sizes are counted on the bytes actually written, so a lying header or a zip bomb stops at the cap.
    """
    dest.mkdir()
    written = 0
    count = 0

    def write(rel: PurePosixPath, stream):
        nonlocal written
        target = dest.joinpath(*rel.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not str(target.parent.resolve()).startswith(str(dest.resolve())):
            return  # a directory on the way is not ours (cannot happen without links, which we never create)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(65536):
                written += len(chunk)
                if written > limits.max_bytes:
                    raise RepoError("too_large", f"the archive unpacks to more than {limits.max_bytes / 2**20:g} MB.")
                out.write(chunk)

    def counted():
        nonlocal count
        count += 1
        if deadline is not None and time.monotonic() > deadline:
            raise RepoError("timeout", "unpacking the archive did not finish within the time limit.")
        if count > limits.max_files:
            raise RepoError("too_many_files", f"the archive holds more than {limits.max_files} files.")

    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    counted()
                    rel = safe_member_path(info.filename)
                    kind_bits = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip tool stored none
                    if rel is None or info.is_dir() or kind_bits not in (0, stat.S_IFREG):
                        continue
                    with zf.open(info) as stream:
                        try:
                            write(rel, stream)
                        except FileExistsError:
                            continue
        else:
            with tarfile.open(archive, "r:*") as tf:
                for member in tf:
                    counted()
                    rel = safe_member_path(member.name)
                    if rel is None or not member.isfile():
                        continue
                    stream = tf.extractfile(member)
                    if stream is None:
                        continue
                    try:
                        write(rel, stream)
                    except FileExistsError:
                        continue
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
        # RuntimeError: an encrypted zip member; NotImplementedError: a compression method zipfile lacks.
        raise RepoError("bad_upload", f"the archive could not be unpacked ({type(exc).__name__}).") from None


def sanitised_git_dir(root: Path) -> Path:
    """Find the repository in an unpacked archive and strip what could reach outside it.

    A repository's own config can run programs (core.fsmonitor, filters) and its alternates can point at any
    repository on this machine; we replace the config and drop alternates and worktree links before git reads it.
    """
    candidates = [root, *sorted(p for p in root.iterdir() if p.is_dir())]
    for base in candidates:
        for gitdir in (base / ".git", base):
            if (gitdir / "HEAD").is_file() and (gitdir / "objects").is_dir() and (gitdir / "refs").is_dir():
                (gitdir / "config").unlink(missing_ok=True)
                (gitdir / "config").write_text("[core]\n\trepositoryformatversion = 0\n\tbare = true\n")
                for rel in ("objects/info/alternates", "objects/info/http-alternates", "commondir", "gitdir"):
                    (gitdir / rel).unlink(missing_ok=True)
                shutil.rmtree(gitdir / "hooks", ignore_errors=True)
                return gitdir
    raise RepoError("bad_upload", "the archive holds no git repository (no .git directory).")


# --- scanning --------------------------------------------------------------------------------------------------

def scan_bare(git: Git, bare: Path, limits: Limits) -> ScanReport:
    report = ScanReport()
    gd = ["--git-dir", str(bare)]
    refs = git.run([*gd, "for-each-ref", "--format=%(refname)"], what="listing refs").split()
    if len(refs) > limits.max_refs:
        raise RepoError("too_many_refs", f"the repository has more than {limits.max_refs} branches and tags.")
    report.refs = [r.removeprefix("refs/heads/").removeprefix("refs/") for r in refs if r != SCAN_HEAD_REF]
    if not refs:
        return report
    report.commits = int(git.run([*gd, "rev-list", "--all", "--count"], what="counting commits").strip() or 0)
    read_history(git, gd, report)
    head = SCAN_HEAD_REF if SCAN_HEAD_REF in refs else "HEAD"
    try:
        for line in git.run([*gd, "ls-tree", "-r", "--full-tree", head], what="reading HEAD").splitlines():
            meta, _, path = line.partition("\t")
            fields = meta.split()
            if len(fields) == 3 and fields[1] == "blob":
                report.head.setdefault(fields[2], path)
    except RepoError as exc:
        if exc.kind != "git_failed":
            raise
    blobs = reachable_blobs(git, gd, limits, report)
    scan_blobs(git, gd, blobs, limits, report)
    try:
        attribute_leftovers(git, gd, report)
        for commit in list(dict.fromkeys(report.introduced[o.blob][1] for s in report.secrets.values()
                                         for o in s.occurrences if o.blob in report.introduced))[:30]:
            if git.remaining() <= 0:
                break
            out = git.run([*gd, "for-each-ref", "--contains", commit, "--format=%(refname)", "refs/heads",
                           "refs/tags"], what="finding branches")
            report.contains[commit] = [r.removeprefix("refs/heads/").removeprefix("refs/") for r in out.split()]
    except RepoError as exc:
        if exc.kind != "timeout":
            raise
        # What was found stands; only the branch names of some commits are missing.
        report.incomplete = report.incomplete or "the time limit was reached while naming branches."
    return report


def read_history(git: Git, gd: list[str], report: ScanReport):
    """blob -> the earliest (commit time, commit, path) that added or changed a file to it, over every ref."""
    out = git.run([*gd, "log", "--all", "--root", "--raw", "--no-abbrev", "--no-renames", "--no-ext-diff",
                   "--no-textconv", "--format=%x01%H %ct"], what="reading history")
    commit, when = "", 0
    for line in out.splitlines():
        if line.startswith("\x01"):
            commit, _, ts = line[1:].partition(" ")
            when = int(ts or 0)
        elif line.startswith(":") and "\t" in line:
            meta, _, path = line.partition("\t")
            fields = meta.split()
            if len(fields) < 5 or fields[1] == "160000" or fields[3] == NULL_SHA:
                continue
            blob = fields[3]
            path = unquote(path)
            known = report.introduced.get(blob)
            if known is None or when < known[0]:
                report.introduced[blob] = (when, commit, path)


def unquote(path: str) -> str:
    if len(path) >= 2 and path[0] == path[-1] == '"':
        return path[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape", "replace")
    return path


def reachable_blobs(git: Git, gd: list[str], limits: Limits, report: ScanReport) -> list[tuple[str, str]]:
    """(blob, path) for every blob reachable from any ref, at its first-seen path; too large ones are counted."""
    listing = git.run([*gd, "rev-list", "--objects", "--all"], what="listing objects")
    paths = {}
    for line in listing.splitlines():
        sha, _, path = line.partition(" ")
        if path:
            paths.setdefault(sha, path)
    if not paths:
        return []
    checked = git.run([*gd, "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"],
                      input="\n".join(paths).encode() + b"\n", what="sizing objects")
    blobs = []
    for line in checked.splitlines():
        fields = line.split()
        if len(fields) != 3 or fields[1] != "blob":
            continue
        if int(fields[2]) > limits.max_blob_bytes:
            report.blobs_skipped_large += 1
            continue
        # Prefer the path the history gives: rev-list names a shared blob after whichever path it met first.
        path = report.introduced.get(fields[0], (0, "", paths[fields[0]]))[2]
        if secretscan.skip_file(path) and not secretscan.is_dotenv_path(path):
            continue
        blobs.append((fields[0], path))
    return blobs


def scan_blobs(git: Git, gd: list[str], blobs: list[tuple[str, str]], limits: Limits, report: ScanReport):
    if not blobs:
        return
    proc = git.popen([*gd, "cat-file", "--batch"], stdin=subprocess.PIPE)
    try:
        reserve = min(3.0, (git.deadline - git.started) * 0.1)  # time left for attribution afterwards
        for index, (blob, path) in enumerate(blobs):
            if git.remaining() <= reserve:
                report.incomplete = (f"the time limit was reached after {index} of {len(blobs)} file versions; "
                                     "secrets further back were not looked for.")
                return
            proc.stdin.write(blob.encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) == 2 and header[1] == b"missing":
                continue
            if len(header) != 3:
                raise RepoError("git_failed", "git cat-file stopped answering.")
            data = proc.stdout.read(int(header[2]) + 1)[:-1]
            if b"\x00" in data[:8000]:
                report.blobs_skipped_binary += 1
                continue
            report.blobs_scanned += 1
            report.bytes_scanned += len(data)
            record_hits(report, blob, path, data.decode("utf-8", "replace"))
    finally:
        kill(proc)


def record_hits(report: ScanReport, blob: str, path: str, text: str):
    hits = secretscan.scan_text(path, text)
    if secretscan.is_dotenv_path(path):
        named = secretscan.dotenv_names_with_values(text)
        rule = "dotenv_file" if named else "dotenv_file_empty"
        hits.append(secretscan.Hit(rule, path, 1, ", ".join(named[:10]) or "(no values)"))
    for hit in hits:
        fingerprint = hashlib.blake2b(hit.secret.encode(), key=report.hash_key, digest_size=16).hexdigest()
        # Private-key headers and .env files are alike everywhere: tell them apart by file.
        key = (hit.rule, fingerprint, path) if hit.rule in ("private_key", "dotenv_file", "dotenv_file_empty") \
            else (hit.rule, fingerprint)
        seen = report.secrets.setdefault(key, secretscan_seen(hit))
        if len(seen.occurrences) < 200:
            seen.occurrences.append(Occurrence(blob, path, hit.line))


def secretscan_seen(hit) -> SecretSeen:
    return SecretSeen(rule=hit.rule, display=hit.display)


def attribute_leftovers(git: Git, gd: list[str], report: ScanReport):
    """Blobs with secrets that only a merge brought in: ask git which commits introduced them (a few at most)."""
    missing = list(dict.fromkeys(o.blob for s in report.secrets.values() for o in s.occurrences
                                 if o.blob not in report.introduced))[:10]
    for blob in missing:
        if git.remaining() <= 0:
            return
        out = git.run([*gd, "log", "--all", "-m", "--format=%H %ct", f"--find-object={blob}"], what="attributing")
        rows = [line.split() for line in out.splitlines() if len(line.split()) == 2]
        if rows:
            commit, when = min(rows, key=lambda r: int(r[1]))
            path = next(o.path for s in report.secrets.values() for o in s.occurrences if o.blob == blob)
            report.introduced[blob] = (int(when), commit, path)
