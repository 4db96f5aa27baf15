from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load the demo workspace (idempotent)."

    def handle(self, *args, **options):
        self.stdout.write("Demo data arrives with the demo loader.")
