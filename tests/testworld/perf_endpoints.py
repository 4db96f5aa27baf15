"""Load-probe endpoints of the test world: keep-alive HTTP(S) on perf.lrtest.

    /fast     answers at once
    /steady   answers after 40 ms (or after ?ms=N milliseconds)
    /stall    answers at once, except that the server pauses 1.5 s every 10 s: every request arriving during a
              pause is held until the pause ends (a GC pause, a blocked worker, a cold lambda)
    /boom     500 at once
    /once     answers the first request on a connection (after ?ms=N milliseconds) and closes the connection
              unanswered when another arrives on it: a server dropping an idle keep-alive connection just as the
              client reuses it

The server records what it did — each pause window and when its held requests were released, and each request's
arrival and answer time — so a test can derive the true latency distribution and judge the probe against it.
Unlike the rest of the test world these connections stay open (keep-alive): a load probe reuses connections.
"""

from __future__ import annotations

import asyncio
import math
import ssl
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from . import sites, zones

PERF_HOST = "perf.lrtest"
STEADY_S = 0.040
STALL_EVERY_S = 10.0
STALL_FOR_S = 1.5
FIRST_STALL_AFTER_S = 4.0  # the first pause starts this long after the first perf.lrtest request
IDLE_KEEPALIVE_S = 5.0

zones.add_zone(PERF_HOST, A=[zones.MAIN])
sites.SITES.setdefault(PERF_HOST, {})  # so the test CA's certificate names it


@dataclass
class PauseSchedule:
    """Pauses [epoch + k * every, epoch + k * every + length) for k >= 0, on the time.monotonic clock."""

    epoch: float
    every: float = STALL_EVERY_S
    length: float = STALL_FOR_S

    def window_at(self, t: float) -> tuple[float, float] | None:
        if t < self.epoch:
            return None
        k = math.floor((t - self.epoch) / self.every)
        start = self.epoch + k * self.every
        return (start, start + self.length) if t < start + self.length else None

    def hold(self, t: float) -> float:
        """How long a request arriving at t is held before the server answers it."""
        window = self.window_at(t)
        return window[1] - t if window else 0.0


@dataclass
class PerfState:
    schedule: PauseSchedule
    releases: dict[float, float] = field(default_factory=dict)  # pause start -> when its requests were released
    log: deque = field(default_factory=lambda: deque(maxlen=200_000))  # (path, arrived, answered) monotonic
    answered: Counter = field(default_factory=Counter)  # path -> requests answered (unbounded runs, e.g. wrk)
    held: int = 0  # requests that arrived during a pause
    _gates: dict[float, asyncio.Event] = field(default_factory=dict)

    async def stall(self, arrived: float):
        window = self.schedule.window_at(arrived)
        if window is None:
            return
        start, end = window
        self.held += 1
        gate = self._gates.get(start)
        if gate is None:
            gate = self._gates[start] = asyncio.Event()
            loop = asyncio.get_running_loop()

            def release():
                self.releases[start] = time.monotonic()
                gate.set()

            loop.call_at(end, release)  # the loop clock is time.monotonic
        await gate.wait()

    def served(self, path: str, since: float = 0.0) -> list[tuple[float, float]]:
        return [(a, b) for p, a, b in list(self.log) if p == path and a >= since]


def state_of(world) -> PerfState:
    state = getattr(world, "perf", None)
    if state is None:
        state = PerfState(PauseSchedule(time.monotonic() + FIRST_STALL_AFTER_S))
        world.perf = state
    return state


def claims(head: bytes) -> bool:
    """Is this request for perf.lrtest? (cheap: looks at the Host header only)"""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"host":
            return value.strip().split(b":")[0].lower() == PERF_HOST.encode()
    return False


def _delay(query: str) -> float:
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name == "ms" and value.isdigit():
            return min(int(value), 3000) / 1000
    return STEADY_S


def _response(status: int, body: bytes) -> bytes:
    reason = {200: "OK", 404: "Not Found", 500: "Internal Server Error"}.get(status, "Status")
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nCache-Control: no-store\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def serve(world, head: bytes, reader, writer):
    """Answer this request and every following one on the same connection until the client closes or idles."""
    try:
        await _serve(state_of(world), head, reader, writer)
    except asyncio.CancelledError:  # the world is stopping: end quietly (3.11's stream callback chokes on it)
        writer.transport.abort()


async def _serve(state: PerfState, head: bytes, reader, writer):
    answered_here = 0
    while True:
        arrived = time.monotonic()
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        path, _, query = (request_line.split(" ") + ["", ""])[1].partition("?")
        if path == "/once" and answered_here:
            writer.close()
            return
        answered_here += 1
        if path == "/fast":
            reply = _response(200, b"fast")
        elif path == "/steady":  # ?ms=N answers after N ms instead (at most 3 s)
            await asyncio.sleep(_delay(query))
            reply = _response(200, b"steady")
        elif path == "/stall":
            await state.stall(arrived)
            reply = _response(200, b"stall")
        elif path == "/once":
            await asyncio.sleep(_delay(query) if "ms=" in query else 0)
            reply = _response(200, b"once")
        elif path == "/boom":
            reply = _response(500, b"boom")
        else:
            reply = _response(404, b"not found")
        writer.write(reply)
        state.log.append((path, arrived, time.monotonic()))
        state.answered[path] += 1
        try:
            await writer.drain()
            async with asyncio.timeout(IDLE_KEEPALIVE_S):
                head = await reader.readuntil(b"\r\n\r\n")
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
                ssl.SSLError):
            return
