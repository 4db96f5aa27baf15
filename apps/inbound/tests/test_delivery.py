"""The delivery test end to end: real messages through the real SMTP receiver on a loopback port (smtplib),
evaluated against the test world's DNS (SPF, DKIM key, DMARC of sender-app.lrtest)."""

import smtplib
import socket
from datetime import timedelta
from email.utils import formatdate, make_msgid

import dkim
import pytest
from django.utils import timezone

from apps.checks.models import Finding, ScanRun
from apps.inbound.findings import delivery_finding
from apps.inbound.models import OPEN_FOR, DeliveryTest
from apps.inbound.receiver import make_controller
from apps.inbound.tasks import PUBLISH_RETRY, record_delivery_finding
from tests.testworld.email_keys import RSA2048_PRIVATE_PEM
from tests.testworld.email_zones import DELIVERY_SENDER
from tests.worker import WorkerProcess, wait_for

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
    # Nova's app sends its mail from its own domain, which the test world's DNS serves (SPF, DKIM key, DMARC).
    cast.nova.domain = DELIVERY_SENDER
    cast.nova.save(update_fields=["domain"])
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
    assert finding.target == DELIVERY_SENDER


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
    assert finding.evidence["reasons"] == ["spf-not-pass", "dkim-not-pass", "dmarc-unaligned", "from-other-domain"]


def test_well_authenticated_mail_from_another_domain_fails(receiver, delivery, cast):
    # e.g. the founder forwarding from Gmail: SPF, DKIM and DMARC pass, for a domain that is not the client's.
    cast.nova.domain = "nova.example"
    cast.nova.save(update_fields=["domain"])
    send(receiver, f"bounces@{DELIVERY_SENDER}", delivery.address, signed(welcome_email(delivery.address)))
    delivery.refresh_from_db()
    assert delivery.verdict["dmarc"]["result"] == "pass"
    finding = delivery_finding(delivery)
    assert finding.status == "fail" and finding.evidence["reasons"] == ["from-other-domain"]
    assert f"sent from {DELIVERY_SENDER}, not from nova.example" in finding.summary


def test_unsigned_mail_from_a_third_party_domain_is_not_aligned(receiver, delivery):
    send(receiver, f"bounces@{DELIVERY_SENDER}", delivery.address,
         welcome_email(delivery.address, from_addr="hello@nova-other.lrtest"))
    delivery.refresh_from_db()
    assert delivery.verdict["spf"]["result"] == "pass"
    assert delivery.verdict["dkim"] == []
    assert delivery.verdict["dmarc"]["result"] == "fail"
    assert delivery_finding(delivery).evidence["reasons"] == ["dkim-not-pass", "dmarc-unaligned", "from-other-domain"]


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


def test_a_multipart_body_missing_its_closing_boundary_is_judged_not_bounced(receiver, delivery):
    message = welcome_email(delivery.address).replace(
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nWelcome aboard!\r\n",
        b'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n'
        b"Welcome aboard!\r\n")  # no "--b1--": before, 550 "malformed header section"
    send(receiver, f"bounces@{DELIVERY_SENDER}", delivery.address, signed(message))
    delivery.refresh_from_db()
    assert delivery.arrived and delivery_finding(delivery).status == "pass"


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
    b"From: a@sender-app.lrtest\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\nSubject: a\x00b\r\n\r\nhi\r\n",
])
def test_malformed_messages_are_refused(receiver, delivery, message):
    with pytest.raises(smtplib.SMTPDataError) as err:
        send(receiver, f"bounces@{DELIVERY_SENDER}", delivery.address, message)
    assert err.value.smtp_code == 550
    delivery.refresh_from_db()
    assert not delivery.arrived and delivery.headers == []


def test_slow_arrival_fails_the_bar(receiver, cast):
    cast.nova.domain = DELIVERY_SENDER
    cast.nova.save(update_fields=["domain"])
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


# --- the verdict reaches the product: the email.delivery finding and its checklist item ---------------------------

def delivery_item(sprint):
    return sprint.items.get(check_id="email.delivery")


def test_expired_address_is_refused_at_rcpt(receiver, cast):
    old = DeliveryTest.objects.create(sprint=cast.nova_sprint, requested_at=timezone.now() - OPEN_FOR
                                      - timedelta(seconds=5))
    with pytest.raises(smtplib.SMTPRecipientsRefused) as err:
        send(receiver, f"bounces@{DELIVERY_SENDER}", old.address, signed(welcome_email(old.address)))
    assert err.value.recipients[old.address][0] == 550
    old.refresh_from_db()
    assert not old.arrived and old.state == "expired"


def test_an_arrival_publishes_the_finding_task_after_commit(receiver, delivery, monkeypatch):
    published = []
    monkeypatch.setattr(record_delivery_finding, "apply_async", lambda args, **kw: published.append((args, kw)))
    send(receiver, f"bounces@{DELIVERY_SENDER}", delivery.address, signed(welcome_email(delivery.address)))
    assert published == [((str(delivery.pk),), {"retry": True, "retry_policy": PUBLISH_RETRY})]
    assert record_delivery_finding.queue == "default"


def test_signed_delivery_turns_the_checklist_item_to_pass(receiver, delivery, cast, monkeypatch):
    monkeypatch.setattr(record_delivery_finding, "apply_async", lambda *a, **kw: None)  # the task is run below
    assert delivery_item(cast.nova_sprint).status == "todo"
    send(receiver, f"bounces@{DELIVERY_SENDER}", delivery.address, signed(welcome_email(delivery.address)))
    record_delivery_finding(str(delivery.pk))
    item = delivery_item(cast.nova_sprint)
    assert (item.status, item.scan_status) == ("pass", "pass")
    # The sprint had no scan: a one-check scan holds the finding.
    scan = ScanRun.objects.get(sprint=cast.nova_sprint)
    assert (scan.state, scan.profile, scan.domain, scan.client) == ("done", "internet", DELIVERY_SENDER, cast.nova)
    assert [(f.check_id, f.status) for f in scan.findings.all()] == [("email.delivery", "pass")]
    assert scan.score == 100 and item.scan == scan
    record_delivery_finding(str(delivery.pk))  # a redelivered task changes nothing
    assert ScanRun.objects.filter(sprint=cast.nova_sprint).count() == 1 and Finding.objects.count() == 1


def test_forged_delivery_turns_the_checklist_item_to_fail(receiver, delivery, cast, monkeypatch):
    monkeypatch.setattr(record_delivery_finding, "apply_async", lambda *a, **kw: None)
    message = signed(welcome_email(delivery.address, from_addr="ceo@mail-good.lrtest"), domain=b"mail-good.lrtest",
                     selector=b"s2048").replace(b"Welcome aboard!", b"Please wire 10,000 EUR")
    send(receiver, "ceo@mail-good.lrtest", delivery.address, message)
    record_delivery_finding(str(delivery.pk))
    item = delivery_item(cast.nova_sprint)
    assert (item.status, item.scan_status) == ("fail", "fail")
    assert "SPF fail" in item.scan_summary


def test_the_finding_joins_the_latest_finished_scan_and_leaves_other_items_alone(receiver, delivery, cast,
                                                                                  monkeypatch):
    monkeypatch.setattr(record_delivery_finding, "apply_async", lambda *a, **kw: None)
    now = timezone.now()
    scan = ScanRun.objects.create(client=cast.nova, sprint=cast.nova_sprint, profile="internet",
                                  domain="nova.example", state=ScanRun.DONE, finished_at=now, score=100, grade="A")
    Finding.objects.create(scan=scan, check_id="tls.certificate", target="nova.example", status="fail",
                           severity="high", summary="expired")
    running = ScanRun.objects.create(client=cast.nova, sprint=cast.nova_sprint, profile="internet",
                                     domain="nova.example", state=ScanRun.RUNNING)
    tls_item = cast.nova_sprint.items.get(check_id="tls.certificate")
    tls_item.status = "pass"  # set by hand after the scan; re-applying the whole scan would undo it
    tls_item.save()
    send(receiver, "ceo@mail-good.lrtest", delivery.address,
         signed(welcome_email(delivery.address, from_addr="ceo@mail-good.lrtest"), domain=b"mail-good.lrtest",
                selector=b"s2048"))
    record_delivery_finding(str(delivery.pk))
    assert not running.findings.exists()  # a running scan gets no finding (its finalize syncs it)
    assert sorted(scan.findings.values_list("check_id", "status")) == [("email.delivery", "fail"),
                                                                      ("tls.certificate", "fail")]
    scan.refresh_from_db()
    assert scan.score < 100  # rescored with the failing delivery
    assert delivery_item(cast.nova_sprint).status == "fail"
    assert cast.nova_sprint.items.get(check_id="tls.certificate").status == "pass"
    assert ScanRun.objects.filter(sprint=cast.nova_sprint).count() == 2


def test_a_dead_broker_records_the_finding_inline(receiver, delivery, cast, monkeypatch):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(record_delivery_finding, "apply_async", broker_down)
    send(receiver, f"bounces@{DELIVERY_SENDER}", delivery.address, signed(welcome_email(delivery.address)))
    assert delivery_item(cast.nova_sprint).status == "pass"


@pytest.mark.worker
def test_a_real_worker_records_the_delivery(receiver, delivery, cast):
    worker = WorkerProcess(queues="default", concurrency=1).start()
    try:
        send(receiver, f"bounces@{DELIVERY_SENDER}", delivery.address, signed(welcome_email(delivery.address)))
        item = wait_for(lambda: cast.nova_sprint.items.filter(check_id="email.delivery", status="pass").first(),
                        timeout=30, message=f"the checklist item to pass\n{worker.log()}")
    finally:
        worker.stop()
    assert item.scan.findings.get().check_id == "email.delivery"
