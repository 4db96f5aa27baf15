"""The hermetic fake internet on loopback (SPEC.md section 5)."""

from .world import TestWorld

__all__ = ["TestWorld"]
