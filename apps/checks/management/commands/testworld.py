"""Run the hermetic test world until Ctrl-C, and publish its addresses for the "testworld" profile."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the fake internet on loopback (DNS, test CA, web servers) and write its state file."

    def handle(self, *args, **options):
        from tests.testworld import TestWorld

        state_file = settings.TESTWORLD_STATE_FILE
        world = TestWorld(settings.VAR_DIR / "testworld").start()
        world.write_state(state_file)
        state = world.state()
        self.stdout.write(f"test world running; state in {state_file}")
        self.stdout.write("scan it with:")
        self.stdout.write(f"  LAUNCHREADY_NAMESERVERS={state['nameservers'][0]} "
                          f"LAUNCHREADY_PORT_MAP={state['port_map']} LAUNCHREADY_CA_BUNDLE={state['ca_bundle']} "
                          f"LAUNCHREADY_ALLOWED_NETWORKS=127.0.0.0/8 python manage.py scan good.lrtest --host www")
        self.stdout.write("demo domains: " + ", ".join(state["demo_domains"]))
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        try:
            stop.wait()
        finally:
            world.stop()
            state_file.unlink(missing_ok=True)
            self.stdout.write("test world stopped")
