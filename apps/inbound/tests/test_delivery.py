"""The delivery test end to end: real messages through the real SMTP receiver on a loopback port (smtplib),
evaluated against the test world's DNS (SPF, DKIM key, DMARC of sender-app.lrtest)."""

import smtplib
import socket
from datetime import timedelta
from email.utils import formatdate, make_msgid

import dkim
import pytest
from django.utils import timezone

from apps.inbound.findings import delivery_finding
from apps.inbound.models import DeliveryTest
from apps.inbound.receiver import make_controller
from tests.testworld.email_keys import RSA2048_PRIVATE_PEM
from tests.testworld.email_zones import DELIVERY_SENDER

pytestmark = pytest.mark.django_db(transaction=True)  # the receiver thread reads rows through its own connection


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def receiver(testworld, settings):
    settings.INBOUND_EMAIL_DOMAIN = "inbound.lrtest"
    settings.INBOUND_MAX_MESSAGE_BYTES = 64 * 1024
    controller = make_controller(testworld.profile(), "127.0.0.1", free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def delivery(cast):
    return DeliveryTest.objects.create(sprint=cast.nova_sprint)


def welcome_email(to: str, from_addr: str = f"hello@{DELIVERY_SENDER}", body: str = "Welcome aboard!") -> bytes:
    return (f"From: Nova App <{from_addr}>\r\nTo: {to}\r\nSubject: Welcome to Nova\r\n"
            f"Date: {formatdate()}\r\nMessage-ID: {make_msgid(domain=DELIVERY_SENDER)}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"{body}\r\n").encode()


def signed(message: bytes, selector: bytes = b"app", domain: bytes = DELIVERY_SENDER.encode()) -> bytes:
    signature = dkim.sign(message, selector, domain, RSA2048_PRIVATE_PEM.encode(),
                          include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return signature + message


def send(receiver, mail_from: str, to: str, message: bytes):
    with smtplib.SMTP(receiver.hostname, receiver.port, timeout=10) as client:
        client.ehlo("app-server.sender-app.lrtest")
        return client.sendmail(mail_from, [to], message)


def test_signed_message_from_an_authorized_server_passes(receiver, delivery):
    assert delivery.address == f"check-{delivery.token}@inbound.lrtest"
    send(receiver, f"bounces@{DELIVERY_SENDER}", delivery.address, signed(welcome_email(delivery.address)))
    delivery.refresh_from_db()
    assert delivery.arrived
    assert delivery.connecting_ip == "127.0.0.1"
    assert delivery.envelope_sender == f"bounces@{DELIVERY_SENDER}"
    verdict = delivery.verdict
    assert verdict["spf"]["result"] == "pass"
    assert verdict["dkim"] == [{"domain": DELIVERY_SENDER, "selector": "app", "result": "pass",
                                "reason": "signature verified"}]
    assert verdict["dmarc"]["result"] == "pass" and verdict["dmarc"]["spf_aligned"] and verdict["dmarc"]["dkim_aligned"]
    assert verdict["minutes_to_arrive"] < 5
    names = [name for name, _ in delivery.headers]
    assert names[0] == "DKIM-Signature" and "Subject" in names
    assert "Welcome aboard" not in str(delivery.headers) + str(delivery.verdict)  # the body is not kept
    finding = delivery_finding(delivery)
    assert (finding.check, finding.status, finding.evidence["reasons"]) == ("email.delivery", "pass", ["delivered"])
    assert finding.target == "nova.example"


def test_forged_message_fails(receiver, delivery):
    message = signed(welcome_email(delivery.address, from_addr="ceo@mail-good.lrtest"), domain=b"mail-good.lrtest",
                     selector=b"s2048")
    tampered = message.replace(b"Welcome aboard!", b"Please wire 10,000 EUR")
    send(receiver, "ceo@mail-good.lrtest", delivery.address, tampered)
    delivery.refresh_from_db()
    verdict = delivery.verdict
    assert verdict["spf"]["result"] == "fail"  # 127.0.0.1 is not in mail-good.lrtest's SPF, which ends in -all
    assert verdict["dkim"][0]["result"] == "fail"
    assert verdict["dmarc"] | {"record": None} == {
        "result": "fail", "from_domain": "mail-good.lrtest", "spf_aligned": False, "dkim_aligned": False,
        "policy": "reject", "policy_domain": "mail-good.lrtest", "record": None}
    finding = delivery_finding(delivery)
    assert finding.status == "fail"
    assert finding.evidence["reasons"] == ["spf-not-pass", "dkim-not-pass", "dmarc-unaligned"]


def test_unsigned_mail_from_a_third_party_domain_is_not_aligned(receiver, delivery):
    send(receiver, f"bounces@{DELIVERY_SENDER}", delivery.address,
         welcome_email(delivery.address, from_addr="hello@nova-other.lrtest"))
    delivery.refresh_from_db()
    assert delivery.verdict["spf"]["result"] == "pass"
    assert delivery.verdict["dkim"] == []
    assert delivery.verdict["dmarc"]["result"] == "fail"
    assert delivery_finding(delivery).evidence["reasons"] == ["dkim-not-pass", "dmarc-unaligned"]


def test_unknown_token_is_refused_at_rcpt(receiver, delivery):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as err:
        send(receiver, f"bounces@{DELIVERY_SENDER}", "check-deadbeef@inbound.lrtest", welcome_email("x"))
    assert err.value.recipients["check-deadbeef@inbound.lrtest"][0] == 550
    for address in (f"check-{delivery.token}@elsewhere.lrtest", f"other-{delivery.token}@inbound.lrtest"):
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            send(receiver, f"bounces@{DELIVERY_SENDER}", address, welcome_email(address))


def test_second_message_to_a_used_address_is_refused(receiver, delivery):
    send(receiver, f"bounces@{DELIVERY_SENDER}", delivery.address, signed(welcome_email(delivery.address)))
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(receiver, f"bounces@{DELIVERY_SENDER}", delivery.address, signed(welcome_email(delivery.address)))


def test_oversized_message_is_refused(receiver, delivery):
    huge = welcome_email(delivery.address, body="x" * 70 * 1024)
    with pytest.raises(smtplib.SMTPException) as err:
        send(receiver, f"bounces@{DELIVERY_SENDER}", delivery.address, huge)
    assert "552" in str(err.value)
    delivery.refresh_from_db()
    assert not delivery.arrived


@pytest.mark.parametrize("message", [
    b"just some text without any header\r\n",
    b"Subject: no from\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\nhi\r\n",
    b"From: a@sender-app.lrtest\r\nFrom: b@sender-app.lrtest\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\nhi\r\n",
    b"From: a@sender-app.lrtest\r\nSubject: no date\r\n\r\nhi\r\n",
    b"From: nobody\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\nhi\r\n",
])
def test_malformed_messages_are_refused(receiver, delivery, message):
    with pytest.raises(smtplib.SMTPDataError) as err:
        send(receiver, f"bounces@{DELIVERY_SENDER}", delivery.address, message)
    assert err.value.smtp_code == 550
    delivery.refresh_from_db()
    assert not delivery.arrived and delivery.headers == []


def test_slow_arrival_fails_the_bar(receiver, cast):
    late = DeliveryTest.objects.create(sprint=cast.nova_sprint, requested_at=timezone.now() - timedelta(minutes=9))
    send(receiver, f"bounces@{DELIVERY_SENDER}", late.address, signed(welcome_email(late.address)))
    late.refresh_from_db()
    assert late.verdict["minutes_to_arrive"] >= 9
    finding = delivery_finding(late)
    assert (finding.status, finding.evidence["reasons"]) == ("fail", ["slow-arrival"])


def test_not_yet_arrived_is_skipped(delivery):
    finding = delivery_finding(delivery)
    assert (finding.status, finding.evidence["reasons"]) == ("skipped", ["not-arrived"])
    assert delivery.address in finding.remediation


def test_tokens_are_unique_and_addresses_parse_back(cast, settings):
    settings.INBOUND_EMAIL_DOMAIN = "inbound.lrtest"
    a, b = (DeliveryTest.objects.create(sprint=cast.nova_sprint) for _ in range(2))
    assert a.token != b.token and len(a.token) == 24
    assert DeliveryTest.token_from_address(f"<{a.address.upper()}>") == a.token
    assert DeliveryTest.token_from_address("check-x@other.lrtest") is None


def test_smtpreceiver_command_rejects_a_bad_port():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("smtpreceiver", "--port", "0")
