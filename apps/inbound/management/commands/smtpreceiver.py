"""`python manage.py smtpreceiver --port N`: the delivery-test SMTP receiver, as its own process (Procfile `smtp`)."""

import signal
import threading

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from apps.checks.profiles import PROFILE_NAMES, get_profile
from apps.inbound.receiver import make_controller


class Command(BaseCommand):
    help = "Receive delivery-test emails and record their SPF/DKIM/DMARC verdicts."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="0.0.0.0")
        parser.add_argument("--port", type=int, default=2525)
        parser.add_argument("--profile", choices=PROFILE_NAMES, default=None,
                            help="network profile for DNS lookups (default: settings.DEFAULT_NETWORK_PROFILE)")

    def handle(self, *args, **opts):
        if not 0 < opts["port"] < 65536:
            raise CommandError("--port must be between 1 and 65535", returncode=2)
        try:
            profile = get_profile(opts["profile"])
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc), returncode=2) from None
        controller = make_controller(profile, opts["host"], opts["port"])
        controller.start()
        self.stdout.write(f"smtpreceiver listening on {opts['host']}:{opts['port']} (profile {profile.name})")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
        controller.stop()
