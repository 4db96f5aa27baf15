"""docs/scoring.md is generated from the scoring table: a stale doc fails here."""

import itertools

import pytest
from django.core.management import CommandError, call_command

from apps.checks import scoring_doc
from apps.checks.engine import Finding, scoring


def test_the_committed_doc_is_what_the_table_generates():
    assert scoring_doc.DOC_PATH.read_text() == scoring_doc.render(), \
        "docs/scoring.md is stale: run `DEBUG=1 python manage.py scoring_doc` and commit it"


def test_the_doc_shows_every_check_and_weight():
    text = scoring_doc.render()
    for check in scoring.CHECK_SEVERITY:
        assert f"| `{check}` |" in text
    assert f"caps the score at **{scoring.BLOCKER_CAP}**" in text
    assert "| `tls.certificate` | 3 | blocker | 27 | 10.8 |" in text  # 30 × 0.9, and × 0.4 for a warning


def test_the_check_command_fails_on_a_stale_doc_and_the_writer_fixes_it(tmp_path, monkeypatch):
    path = tmp_path / "scoring.md"
    path.write_text("# an old version\n")
    monkeypatch.setattr(scoring_doc, "DOC_PATH", path)
    with pytest.raises(CommandError, match="out of date"):
        call_command("scoring_doc", "--check")
    call_command("scoring_doc")
    assert path.read_text() == scoring_doc.render()
    call_command("scoring_doc", "--check")


@pytest.mark.parametrize("severity,status", itertools.product(scoring.SEVERITY_WEIGHT, scoring.STATUS_FACTOR))
def test_the_documented_rules_are_the_codes_rules(severity, status):
    finding = Finding(check="http.hsts", target="example.com", status=status, severity=severity, summary="")
    # Go / no-go as the doc states it.
    assert scoring.decision([finding]) == ("no-go" if (status, severity) == ("fail", "blocker") else "go")
    # Score as the doc's formula states it.
    expected = max(0, round(100 - scoring.SEVERITY_WEIGHT[severity] * scoring.STAGE_WEIGHT[3]
                            * scoring.STATUS_FACTOR[status]))
    if (status, severity) == ("fail", "blocker"):
        expected = min(expected, scoring.BLOCKER_CAP)
    assert scoring.score([finding]) == expected
