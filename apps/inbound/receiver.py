"""The SMTP receiver for delivery tests (aiosmtpd): accepts mail only for open tests, evaluates it, keeps headers.

Refused at SMTP time: unknown, already-used or expired tokens (550 at RCPT), more than one recipient, messages over the size
cap (552, enforced by aiosmtpd while reading DATA), and malformed messages (550 after DATA). The body is never
stored: only the verdict (SPF, DKIM, DMARC alignment, minutes to arrive) and the header fields. Once the verdict
is committed, a task records the email.delivery finding and its checklist item (apps.inbound.tasks).
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import logging

from aiosmtpd.controller import Controller
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction

from apps.checks.engine.net import ScanNet
from apps.checks.engine.profile import NetworkProfile

from .authentication import check_host, dmarc_alignment, from_domain, verify_dkim
from .models import DeliveryTest
from .tasks import publish_delivery_finding

log = logging.getLogger(__name__)
MAX_HEADER_FIELDS = 200


class MalformedMessage(ValueError):
    pass


def read_headers(data: bytes) -> list[tuple[str, str]]:
    """Header fields of a message as (name, value); MalformedMessage when it is not an RFC 5322 message."""
    try:
        # The header section only: a multipart body without its closing boundary is the body's business (the
        # verdict is about who sent it), not a reason to bounce a well-authenticated message.
        message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data, headersonly=True)
    except Exception as exc:  # the parser is lenient; anything it still rejects is malformed
        raise MalformedMessage(f"unparseable message: {exc}") from None
    if message.defects:
        raise MalformedMessage(f"malformed header section ({type(message.defects[0]).__name__})")
    head = data.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in data else data.split(b"\n\n", 1)[0]
    if not head.isascii():
        raise MalformedMessage("8-bit bytes in the header section")
    if any(byte < 32 and byte not in (9, 10, 13) or byte == 127 for byte in head):
        raise MalformedMessage("control characters in the header section")  # a NUL cannot even be stored
    headers = [(name, str(value)) for name, value in message.items()]
    if len(headers) > MAX_HEADER_FIELDS:
        raise MalformedMessage("too many header fields")
    names = [name.lower() for name, _ in headers]
    for required in ("from", "date"):
        if names.count(required) != 1:
            raise MalformedMessage(f"a message needs exactly one {required.title()} header (RFC 5322 section 3.6)")
    if from_domain(headers) is None:
        raise MalformedMessage("the From header does not hold exactly one address")
    return headers


async def evaluate(net: ScanNet, data: bytes, headers, *, ip: str, mail_from: str, helo: str) -> dict:
    sender_domain = mail_from.rpartition("@")[2] if "@" in mail_from else helo
    spf_result, spf_reason = await check_host(net, ip, sender_domain, mail_from, helo)
    dkim_results = await verify_dkim(net, data, headers)
    from_dom = from_domain(headers)
    dmarc = await dmarc_alignment(net, from_dom, spf_result, sender_domain, dkim_results)
    return {"spf": {"result": spf_result, "reason": spf_reason, "domain": sender_domain},
            "dkim": dkim_results, "dmarc": dmarc}


def _open_test(token: str) -> DeliveryTest | None:
    return DeliveryTest.objects.open().select_related("sprint").filter(token=token).first()


def store_arrival(test: DeliveryTest, **arrival) -> bool:
    """Keep the verdict; the finding task is published only after that row is committed."""
    with transaction.atomic():
        stored = test.record_arrival(**arrival)
        if stored:
            transaction.on_commit(lambda: publish_delivery_finding(test.pk))
    return stored


class DeliveryHandler:
    def __init__(self, profile: NetworkProfile):
        self.profile = profile

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if envelope.rcpt_tos:
            return "452 4.5.3 One delivery-test address per message"
        token = DeliveryTest.token_from_address(address)
        test = await sync_to_async(_open_test)(token) if token else None
        if test is None:
            return "550 5.1.1 No such delivery-test address"
        envelope.rcpt_tos.append(address)
        envelope.delivery_test = test
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or b""
        if len(data) > settings.INBOUND_MAX_MESSAGE_BYTES:  # aiosmtpd enforces it too; belt and braces
            return "552 5.3.4 Message too big"
        try:
            headers = read_headers(data)
        except MalformedMessage as exc:
            return f"550 5.6.0 Malformed message: {exc}"
        test: DeliveryTest = envelope.delivery_test
        ip = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        mail_from = envelope.mail_from or ""
        verdict = await evaluate(ScanNet(self.profile), data, headers, ip=ip, mail_from=mail_from,
                                 helo=session.host_name or "")
        stored = await sync_to_async(store_arrival)(test, envelope_sender=mail_from, connecting_ip=ip,
                                                    headers=headers, verdict=verdict)
        if not stored:
            return "550 5.1.1 This delivery-test address has already received its message"
        log.info("delivery test %s: spf=%s dmarc=%s", test.pk, verdict["spf"]["result"], verdict["dmarc"]["result"])
        return "250 2.0.0 Received, thank you"


def make_controller(profile: NetworkProfile, host: str, port: int) -> Controller:
    """A receiver on host:port (a thread with its own event loop): `.start()` / `.stop()`."""
    return Controller(DeliveryHandler(profile), hostname=host, port=port,
                      data_size_limit=settings.INBOUND_MAX_MESSAGE_BYTES, server_hostname=settings.INBOUND_EMAIL_DOMAIN,
                      ident="Launch Ready delivery test", timeout=60, enable_SMTPUTF8=False)
