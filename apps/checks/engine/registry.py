"""Check registry: id -> how to run it. Families (one module each) register their checks on import."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .scoring import KNOWN_CHECK_IDS, stage_of


@dataclass(frozen=True)
class CheckSpec:
    id: str
    family: str  # module that owns it: audit, dns, tls, http, edge, ...
    scope: str  # "host": func(target, net, host) per hostname; "target": func(target, net) once per scan
    func: Callable[..., Awaitable[list]]
    active: bool = False  # sends more than a handful of requests: needs proof of ownership
    budget: Callable | None = None  # (target, profile) -> seconds, for checks that outlast profile.check_timeout

    @property
    def stage(self) -> int:
        return stage_of(self.id)


REGISTRY: dict[str, CheckSpec] = {}


def check(check_id: str, *, scope: str = "host", active: bool = False, budget: Callable | None = None,
          family: str | None = None):
    if check_id not in KNOWN_CHECK_IDS:
        raise ValueError(f"{check_id} is not in the SPEC catalogue (scoring.CHECK_SEVERITY)")
    if scope not in ("host", "target"):
        raise ValueError(scope)

    def register(func):
        # family: the module's name, unless a check living in a helper module names its family (perf.chat_stream)
        REGISTRY[check_id] = CheckSpec(check_id, family or func.__module__.rsplit(".", 1)[-1], scope, func, active,
                                       budget)
        return func

    return register


def load_families():
    """Import every family module so their checks are registered."""
    from . import ai, audit, chat_stream, dns, edge, email, envvars, http, perf, repo, smoke, tls  # noqa: F401


def selected(only=None, include_active=False, family=None) -> list[CheckSpec]:
    load_families()
    specs = [s for s in REGISTRY.values() if include_active or not s.active]
    if only:
        specs = [s for s in specs if any(s.id.startswith(p) for p in only)]
    if family:
        specs = [s for s in specs if s.family == family]
    return sorted(specs, key=lambda s: (s.stage, s.id))
