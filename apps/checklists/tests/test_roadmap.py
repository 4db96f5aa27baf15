import re
from collections import Counter

import pytest
from django.conf import settings

from apps.checklists.models import ChecklistTemplate, TemplateItem
from apps.checklists.roadmap import CHECK_IDS, STAGES

# CI checks out ../shared next to the repository, as on the development machine.
SPEC = settings.BASE_DIR.parent / "shared" / "SPEC.md"


def spec_check_ids():
    text = SPEC.read_text(encoding="utf-8")
    catalogue = text.split("### Check catalogue", 1)[1].split("\n#", 1)[0]
    ids = []
    for line in catalogue.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] not in ("stage", "---"):
            ids += re.findall(r"`([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)`", cells[1])
    return ids


@pytest.mark.skipif(not SPEC.exists(), reason=f"{SPEC} is not available (the shared spec sits next to the repo)")
@pytest.mark.django_db
def test_default_template_has_one_item_per_catalogue_check_id():
    catalogue = spec_check_ids()
    assert len(catalogue) == len(set(catalogue)) >= 30 and "email.tls_rpt" in catalogue and "email.mta_sts" in catalogue

    template = ChecklistTemplate.default()
    template_ids = Counter(TemplateItem.objects.filter(stage__template=template).exclude(check_id="")
                           .values_list("check_id", flat=True))

    assert set(template_ids) == set(catalogue)
    assert all(count == 1 for count in template_ids.values())
    assert sorted(CHECK_IDS) == sorted(catalogue)


@pytest.mark.django_db
def test_default_template_has_seven_stages_and_the_manual_items():
    template = ChecklistTemplate.default()
    assert list(template.stages.values_list("number", flat=True)) == [1, 2, 3, 4, 5, 6, 7]
    manual = set(TemplateItem.objects.filter(stage__template=template, check_id="").values_list("title", flat=True))
    for title in ["Rollback path tested once", "CI is green on every merge", "Secrets rotation plan agreed",
                  "Founder knows who owns what", "Vendor accounts owned by the company with 2FA"]:
        assert title in manual
    expected = sum(len(items) for _, _, items in STAGES)
    assert TemplateItem.objects.filter(stage__template=template).count() == expected


@pytest.mark.django_db
def test_stage_prefixes_match_the_catalogue_stages():
    """Each automated item sits in the stage the catalogue puts its check in (stage 1 audit … 7 handover)."""
    stage_of_prefix = {"audit": 1, "deploy": 2, "dns": 3, "tls": 3, "http": 3, "edge": 3, "perf": 4, "ai": 4,
                       "email": 5, "obs": 6, "handover": 7}
    for number, _, items in STAGES:
        for _, check_id, _, _ in items:
            if check_id:
                assert stage_of_prefix[check_id.split(".")[0]] == number, check_id


@pytest.mark.django_db
def test_default_is_created_once():
    assert ChecklistTemplate.default() == ChecklistTemplate.default()
    assert ChecklistTemplate.objects.filter(workspace=None).count() == 1
