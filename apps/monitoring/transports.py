"""Alert transports, healthchecks style: each channel kind is a small class whose notify() raises
TransportError(message, permanent=...). Permanent errors (410/404 and other 4xx, a redirect, a refused address)
disable the channel; transient ones (5xx, 408/425/429, timeouts, resets) are retried with backoff by
`apps.monitoring.alerts.deliver`.

All HTTP goes through the engine's ScanNet (guarded connection to an address it has just checked); the POST itself
is written here with h11 because ScanNet only fetches.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import smtplib
import time
from urllib.parse import urlsplit

import h11
from django.conf import settings
from django.core.mail import send_mail

from apps.checks.engine.net import NetError, ScanNet, host_header, request_target, verified_context
from apps.checks.profiles import get_profile

POST_TIMEOUT = 10.0
# 4xx answers that mean "not now" (timeout, too early, rate limited: several alerts at once hit Slack's limit),
# retried with backoff like a 5xx; every other 4xx is permanent.
RETRY_LATER = (408, 425, 429)


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


def message_for(event: str, *, client, monitor=None, incident=None, owner: str, notice: str = "") -> dict:
    """The words of an alert. Every alert names the person who owns the channel."""
    if event == "notice":
        title = f"Notice for {client.name}"
        text = f"{notice} Owner: {owner}."
    elif event == "test":
        title = f"Test alert for {client.name}"
        text = f"This is a test alert from Launch Ready for {client.name}. Owner: {owner}."
    elif event == "down":
        title = f"DOWN: {monitor.name} ({client.name})"
        text = f"{monitor.name} ({monitor.url}) is down since {incident.opened_at:%Y-%m-%d %H:%M} UTC: " \
               f"{incident.cause}. Owner: {owner}."
    else:
        minutes = max(1, int(incident.duration.total_seconds() // 60))
        title = f"UP: {monitor.name} ({client.name})"
        text = f"{monitor.name} ({monitor.url}) is back up after {minutes} min (cause: {incident.cause}). " \
               f"Owner: {owner}."
    return {"event": event, "title": title, "text": text, "owner": owner, "client": client.name,
            "monitor": monitor.name if monitor else None, "url": monitor.url if monitor else None,
            "incident": str(incident.pk) if incident else None}


class Transport:
    def __init__(self, channel):
        self.channel = channel

    def notify(self, message: dict) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class EmailTransport(Transport):
    def notify(self, message):
        try:
            send_mail(message["title"], message["text"], settings.DEFAULT_FROM_EMAIL, [self.channel.target])
        except smtplib.SMTPRecipientsRefused as exc:
            # 5xx: the address does not exist there (permanent: fix the channel); 4xx: try again later
            code, reply = next(iter(exc.recipients.values()))
            text = reply.decode("utf-8", "replace")[:120] if isinstance(reply, bytes) else str(reply)[:120]
            raise TransportError(f"the mail server refused the address ({code} {text})",
                                 permanent=500 <= code < 600) from None
        except OSError as exc:
            raise TransportError(f"mail server: {exc}") from None


class HttpTransport(Transport):
    def payload(self, message: dict) -> tuple[bytes, dict]:  # pragma: no cover - interface
        raise NotImplementedError

    def notify(self, message):
        body, headers = self.payload(message)
        profile = get_profile(self.channel.client.network_profile)
        status = asyncio.run(post(profile, self.channel.target, body, headers))
        if status in (404, 410):
            raise TransportError(f"the receiver answered {status}: the hook is gone", permanent=True)
        if status >= 500 or status in RETRY_LATER:
            raise TransportError(f"the receiver answered {status}")
        if status >= 400:
            raise TransportError(f"the receiver rejected the alert ({status})", permanent=True)
        if status >= 300:  # alerts are not followed across redirects: a 3xx is an alert nobody received
            raise TransportError(f"the receiver answered {status} (a redirect): give the hook's final URL",
                                 permanent=True)


class SlackTransport(HttpTransport):
    def payload(self, message):
        return json.dumps({"text": f"*{message['title']}*\n{message['text']}"}).encode(), {}


class WebhookTransport(HttpTransport):
    def payload(self, message):
        body = json.dumps(message, sort_keys=True).encode()
        timestamp = str(int(time.time()))
        signature = sign(self.channel.secret, timestamp, body)
        return body, {"X-LaunchReady-Timestamp": timestamp, "X-LaunchReady-Signature": f"sha256={signature}"}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>": a receiver recomputes it and rejects stale timestamps."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


TRANSPORTS = {"email": EmailTransport, "slack": SlackTransport, "webhook": WebhookTransport}


def transport_for(channel) -> Transport:
    return TRANSPORTS[channel.kind](channel)


async def post(profile, url: str, body: bytes, headers: dict) -> int:
    """POST through ScanNet.open (resolution + address guard); returns the status code or raises TransportError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TransportError(f"not an http(s) URL: {url!r}", permanent=True)
    net = ScanNet(profile)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        # the host only: a hook URL's user:password part is a credential, and the message is shown on the channel
        raise TransportError(f"bad port in the hook URL for {parts.hostname}", permanent=True) from None
    tls = verified_context(profile.ca_bundle) if parts.scheme == "https" else None
    try:
        async with asyncio.timeout(POST_TIMEOUT):
            reader, writer, _ip = await net.open(parts.hostname, port, tls=tls)
            try:
                conn = h11.Connection(h11.CLIENT)
                request = h11.Request(method="POST", target=request_target(parts), headers=[
                    ("Host", host_header(parts)), ("User-Agent", profile.user_agent),
                    ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                    ("Connection", "close"), *headers.items()])
                writer.write(conn.send(request) + conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage()))
                await writer.drain()
                while True:
                    event = conn.next_event()
                    if event is h11.NEED_DATA:
                        conn.receive_data(await reader.read(65536))
                    elif isinstance(event, h11.Response):
                        return event.status_code
                    elif isinstance(event, h11.ConnectionClosed):
                        raise TransportError("the receiver closed the connection without answering")
            finally:
                writer.transport.abort()
    except TimeoutError:
        raise TransportError(f"no answer within {POST_TIMEOUT:g} s") from None
    except h11.RemoteProtocolError as exc:
        raise TransportError(f"the receiver did not answer with valid HTTP: {exc}") from None
    except h11.LocalProtocolError as exc:  # a URL h11 cannot put on the wire (non-ASCII, spaces): fix the URL
        raise TransportError(f"the hook URL cannot be sent as HTTP: {exc}", permanent=True) from None
    except OSError as exc:  # reset, broken pipe, TLS failure mid-exchange: the network's, may pass
        raise TransportError(f"connection failed: {exc.__class__.__name__}") from None
    except NetError as exc:
        # A refused address will stay refused; DNS or connection trouble may pass.
        raise TransportError(exc.reason, permanent=exc.kind in ("refused_address", "bad_url", "nxdomain")) from None
