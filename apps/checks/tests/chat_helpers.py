"""Helpers for the chat and AI check tests."""


def finding(result, check, target):
    """The one finding of `check` for `target` in a ScanResult."""
    matches = [f for f in result.findings if f.check == check and f.target == target]
    assert len(matches) == 1, f"expected one {check} finding for {target}, got {result.findings}"
    return matches[0]
