"""The check engine: plain Python (no Django, no ORM). See SPEC.md sections 3-4."""

from .findings import Finding, ScanResult, Target
from .net import NetError, ScanNet
from .profile import NetworkProfile, ProfileError
from .runner import run_family, run_family_async, run_scan, run_scan_async, run_units, run_units_async

__all__ = ["Finding", "ScanResult", "Target", "NetError", "ScanNet", "NetworkProfile", "ProfileError",
           "run_family", "run_family_async", "run_scan", "run_scan_async", "run_units", "run_units_async"]
