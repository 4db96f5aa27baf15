import pytest

from apps.checks.engine import Target, run_scan


@pytest.fixture
def scan(testworld):
    """scan(domain, hosts, only=..., endpoints=..., options=..., profile=...) -> ScanResult against the test world."""

    def run(domain, hosts=(), *, only=None, endpoints=(), options=None, profile=None):
        target = Target.build(domain, hosts, endpoints, options=options or {})
        return run_scan(target, profile or testworld.profile(), only)

    return run


def finding(result, check, target):
    matches = [f for f in result.findings if f.check == check and f.target == target]
    assert len(matches) == 1, f"expected one {check} finding for {target}, got {result.findings}"
    return matches[0]
