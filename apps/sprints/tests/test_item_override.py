"""A consultant overrides an automated checklist item with a reason; later scans keep it and show the disagreement."""

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.checks import pipeline
from apps.checks.models import Finding, ScanRun


def edit_url(item):
    return reverse("sprints:item_edit", args=[item.pk])


def sprint_page(web, sprint):
    return web.get(reverse("sprints:detail", args=[sprint.pk])).content.decode()


@pytest.fixture
def tls_item(cast):
    return cast.orbit_sprint.items.get(check_id="tls.certificate")


def finish_scan(sprint, verdicts):
    """A finished scan of the sprint's client with one finding per (check_id, status), applied to the checklist."""
    scan = ScanRun.objects.create(client=sprint.client, sprint=sprint, profile="testworld", domain=sprint.client.domain,
                                  state=ScanRun.RUNNING, started_at=timezone.now())
    Finding.objects.bulk_create(
        Finding(scan=scan, check_id=check_id, target=sprint.client.domain, status=status, severity="blocker",
                summary=f"{check_id} says {status}")
        for check_id, status in verdicts.items())
    assert pipeline.finalize(scan)
    return scan


def test_the_reason_field_shows_only_for_automated_items(cast, login, tls_item):
    web = login(cast.bob)
    assert 'name="override_reason"' in web.get(edit_url(tls_item)).content.decode()
    manual = cast.orbit_sprint.items.get(title="CI is green on every merge")
    body = web.get(edit_url(manual)).content.decode()
    assert 'name="override_reason"' not in body
    response = web.post(edit_url(manual), {"status": "pass", "evidence_text": "", "evidence_link": "", "owner": ""})
    assert response.status_code == 302  # a manual item needs no reason
    manual.refresh_from_db()
    assert manual.status == "pass"


def test_changing_an_automated_items_status_needs_a_reason(cast, login, tls_item):
    response = login(cast.bob).post(edit_url(tls_item), {"status": "pass", "evidence_text": "", "evidence_link": "",
                                                          "owner": "", "override_reason": "   "})
    assert response.status_code == 200
    assert "give a reason" in response.context["form"].errors["override_reason"][0]
    tls_item.refresh_from_db()
    assert tls_item.status == "todo" and tls_item.override_reason == ""


def test_agreeing_with_the_scan_needs_no_reason(cast, login, tls_item):
    finish_scan(cast.orbit_sprint, {"tls.certificate": "fail"})
    tls_item.refresh_from_db()
    assert tls_item.status == "fail"
    tls_item.status = "todo"
    tls_item.save(update_fields=["status"])
    response = login(cast.bob).post(edit_url(tls_item), {"status": "fail", "evidence_text": "", "evidence_link": "",
                                                          "owner": ""})
    assert response.status_code == 302


@pytest.mark.parametrize("reason", ["x" * 2001, ["a", "b"]])
def test_malformed_reasons_are_field_errors(cast, login, tls_item, reason):
    response = login(cast.bob).post(edit_url(tls_item), {"status": "pass", "evidence_text": "", "evidence_link": "",
                                                          "owner": "", "override_reason": reason})
    assert response.status_code in (200, 302)
    tls_item.refresh_from_db()
    if response.status_code == 200:
        assert "override_reason" in response.context["form"].errors
        assert tls_item.status == "todo"
    else:  # a list posts its last value, a valid short reason
        assert tls_item.override_reason == "b"


def test_a_later_scan_keeps_the_override_and_the_page_shows_the_disagreement(cast, login, tls_item):
    web = login(cast.bob)
    reason = "Cert is renewed on the new load balancer <b>tomorrow</b>; the old one is being retired"
    response = web.post(edit_url(tls_item), {"status": "pass", "evidence_text": "Renewal ticket OPS-12",
                                             "evidence_link": "", "owner": "", "override_reason": reason})
    assert response.status_code == 302
    hsts_item = cast.orbit_sprint.items.get(check_id="http.hsts")

    finish_scan(cast.orbit_sprint, {"tls.certificate": "fail", "http.hsts": "fail"})

    tls_item.refresh_from_db()
    hsts_item.refresh_from_db()
    assert (tls_item.status, tls_item.scan_status, tls_item.override_reason) == ("pass", "fail", reason)
    assert tls_item.evidence_text == "Renewal ticket OPS-12"  # the consultant's evidence is not replaced either
    assert tls_item.disagrees_with_scan
    assert hsts_item.status == "fail"  # items nobody overrode follow the scan
    body = sprint_page(web, cast.orbit_sprint)
    assert 'class="scan-says disagree"' in body
    assert "overridden: Cert is renewed on the new load balancer &lt;b&gt;tomorrow&lt;/b&gt;" in body
    assert "http.hsts says fail" in body

    # Emptying the reason hands the item back to the scan at once: its last verdict is the status. (Before, the
    # overridden "pass" stayed, without its reason or the disagreement badge, until the next scan.)
    web.post(edit_url(tls_item), {"status": "pass", "evidence_text": "Renewal ticket OPS-12", "evidence_link": "",
                                  "owner": "", "override_reason": ""})
    tls_item.refresh_from_db()
    assert tls_item.override_reason == "" and tls_item.status == "fail"
    assert cast.orbit_sprint.activity.first().text.endswith("status → fail, the scan decides again")
    finish_scan(cast.orbit_sprint, {"tls.certificate": "fail"})
    tls_item.refresh_from_db()
    assert tls_item.status == "fail" and not tls_item.disagrees_with_scan


def test_it_checks_ownership(cast, login, tls_item):
    for outsider in (cast.charlie, cast.fiona):
        response = login(outsider).post(edit_url(tls_item), {"status": "pass", "override_reason": "mine now"})
        assert response.status_code == 404
    tls_item.refresh_from_db()
    assert tls_item.status == "todo" and tls_item.override_reason == ""


def test_a_scan_that_changes_the_status_keeps_the_evidence_a_person_wrote(cast, login, tls_item):
    finish_scan(cast.orbit_sprint, {"tls.certificate": "pass"})
    tls_item.refresh_from_db()
    assert tls_item.status == "pass" and tls_item.evidence_text.startswith("Scan ")
    login(cast.bob).post(edit_url(tls_item), {"status": "pass", "evidence_text": "Checked by hand: chain OK, OPS-7",
                                              "evidence_link": "", "owner": "", "override_reason": ""})
    finish_scan(cast.orbit_sprint, {"tls.certificate": "fail"})
    tls_item.refresh_from_db()
    scan_line, notes = tls_item.evidence_text.split("\n\nEarlier notes: ")
    assert tls_item.status == "fail" and scan_line.startswith("Scan ") and "says fail" in scan_line
    assert notes == "Checked by hand: chain OK, OPS-7"  # before: replaced by the scan line, without a trace
    finish_scan(cast.orbit_sprint, {"tls.certificate": "pass"})  # the next change replaces the scan line only
    tls_item.refresh_from_db()
    assert tls_item.evidence_text.count("Scan ") == 1 and "says pass" in tls_item.evidence_text
    assert tls_item.evidence_text.endswith("Earlier notes: Checked by hand: chain OK, OPS-7")


def test_scan_evidence_keeps_a_note_typed_below_the_scan_line():
    from apps.checks.sync import scan_evidence

    old = "Scan 2026-11-28 09:00 UTC: HSTS is on.\nChecked the CDN too (OPS-9)."
    assert scan_evidence("Scan 2026-11-29 10:00 UTC: HSTS is off.", old) == (
        "Scan 2026-11-29 10:00 UTC: HSTS is off.\n\nEarlier notes: Checked the CDN too (OPS-9).")
    assert scan_evidence("Scan 2026-11-29 10:00 UTC: x", "Scan 2026-11-28 09:00 UTC: y") == (
        "Scan 2026-11-29 10:00 UTC: x")
    assert scan_evidence("Scan 2026-11-29 10:00 UTC: x", "Scanned by hand") == (
        "Scan 2026-11-29 10:00 UTC: x\n\nEarlier notes: Scanned by hand")
