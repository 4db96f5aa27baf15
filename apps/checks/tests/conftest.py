import pytest

from apps.checks.engine import Target, run_scan


@pytest.fixture
def scan(testworld):
    """scan(domain, hosts, only=..., endpoints=..., options=..., profile=...) -> ScanResult against the test world."""

    def run(domain, hosts=(), *, only=None, endpoints=(), options=None, profile=None):
        target = Target.build(domain, hosts, endpoints, options=options or {})
        return run_scan(target, profile or testworld.profile(), only)

    return run
