"""Write docs/scoring.md from the scoring table (or, with --check, fail when it is out of date)."""

from django.core.management.base import BaseCommand, CommandError

from apps.checks import scoring_doc


class Command(BaseCommand):
    help = "Generate docs/scoring.md from apps/checks/engine/scoring.py."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only compare; exit 1 when the doc is stale.")

    def handle(self, *args, check=False, **options):
        path = scoring_doc.DOC_PATH
        if check:
            if not path.exists() or path.read_text() != scoring_doc.render():
                raise CommandError(f"{path} is out of date: run `python manage.py scoring_doc`")
            self.stdout.write(f"{path} is up to date")
            return
        changed = scoring_doc.write(path)
        self.stdout.write(f"{'wrote' if changed else 'unchanged:'} {path}")
