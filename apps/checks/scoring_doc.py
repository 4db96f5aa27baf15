"""docs/scoring.md, written from the scoring table itself (`manage.py scoring_doc`); a test fails when they differ."""

from pathlib import Path

from django.conf import settings

from apps.checks.engine import scoring

DOC_PATH = Path(settings.BASE_DIR) / "docs" / "scoring.md"


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def _num(value: float) -> str:
    return f"{value:g}"


def render() -> str:
    s = scoring
    lines = [
        "# How a scan is scored",
        "",
        "<!-- Generated from apps/checks/engine/scoring.py by `python manage.py scoring_doc`; do not edit by hand. -->",
        "",
        "Every weight, default severity and the go/no-go rule live in one table, `apps/checks/engine/scoring.py`.",
        "This page is generated from it, and a test fails when the two differ.",
        "",
        "## Score",
        "",
        "Each check counts once, with its worst finding across all targets:",
        "",
        "    penalty = severity weight × stage weight × status factor",
        "    score   = max(0, round(100 − sum of penalties))",
        "",
        f"A failing **blocker** caps the score at **{s.BLOCKER_CAP}**. Declaring more hostnames does not sink the "
        "score; how many targets a problem touches ranks it in the risk list instead.",
        "",
        "### Severity weights",
        "",
        *_table(["severity", "weight"], [[name, w] for name, w in s.SEVERITY_WEIGHT.items()]),
        "### Stage weights",
        "",
        "Earlier stages gate the launch harder.",
        "",
        *_table(["stage", "name", "weight", "check id prefixes"],
                [[n, name, _num(s.STAGE_WEIGHT[n]),
                  ", ".join(f"`{p}.`" for p, stage in s.STAGE_OF_PREFIX.items() if stage == n) or "—"]
                 for n, name in s.STAGES.items()]),
        "### Status factors",
        "",
        "`error` means the check could not decide: it costs a little, so a scan that saw nothing cannot score 100.",
        "",
        *_table(["status", "factor"], [[status, _num(f)] for status, f in s.STATUS_FACTOR.items()]),
        "### Grades",
        "",
        *_table(["score at least", "grade"], [[floor, letter] for floor, letter in s.GRADES]),
        "## Go / no-go",
        "",
        "The decision is **no-go** when any finding is a failing blocker (status `fail`, severity `blocker`); "
        "otherwise **go**.",
        "",
        "## Risk list",
        "",
        "Failing and warning findings, grouped per (check, status), ranked by: severity weight × (1 for `fail`, "
        "0.4 for `warn`), then stage weight, then the number of affected targets, then the check id.",
        "",
        "## Checks",
        "",
        "A check may raise or lower the severity of one finding; the default is its failure's severity.",
        "",
        *_table(["check", "stage", "default severity", "penalty if fail", "penalty if warn"],
                [[f"`{check}`", s.stage_of(check), severity,
                  _num(round(s.SEVERITY_WEIGHT[severity] * s.STAGE_WEIGHT[s.stage_of(check)], 2)),
                  _num(round(s.SEVERITY_WEIGHT[severity] * s.STAGE_WEIGHT[s.stage_of(check)]
                             * s.STATUS_FACTOR["warn"], 2))]
                 for check, severity in s.CHECK_SEVERITY.items()]),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def write(path: Path = DOC_PATH) -> bool:
    """Write the doc; True when it changed."""
    text = render()
    if path.exists() and path.read_text() == text:
        return False
    path.write_text(text)
    return True
