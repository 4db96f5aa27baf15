"""An open-loop load probe that does not lie about tail latency.

Open loop: request i is due at `start + i / rate` whatever earlier requests are doing, and its latency is measured
from that *intended* send time. A closed-loop tool (wrk, ab, a `for` loop awaiting each request) sends less while
the server stalls and so never samples the stall — coordinated omission. Here a stall shows up in every request
that was due during it. Every sample is kept (exact list: the caps below bound it), and a request that times out is
both an error and a sample at the timeout.

The generator measures itself: `lag` is how late each request started compared with its schedule. When the lag's
p95 exceeds LAG_P95_LIMIT_MS, the achieved rate falls short of the plan, or the hard deadline cuts the run, the
report is *inconclusive* — the figures describe the generator, not the target.

Why not httpx: one AsyncClient with hundreds of in-flight requests spends its time in pool bookkeeping (work grows
with connections x waiting requests) and its own lag then looks like the target's latency. This probe is one asyncio
loop writing HTTP/1.1 with h11 over sockets opened by ScanNet.open (address guard, port map, SNI, one resolution per
scan): one connection per in-flight request, idle keep-alive connections reused from a LIFO stack, O(1) work per
request. The lag figures prove it keeps up (see benchmarks/loadprobe.py for this machine's honest maximum rate).
"""

from __future__ import annotations

import asyncio
import math
import ssl
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import h11

from .net import NetError, ScanNet, host_header, request_target, verified_context

# Hard caps: whatever a caller asks, a probe never exceeds these.
MAX_RATE = 500.0  # requests per second
MAX_DURATION = 60.0  # seconds of sending
MAX_REQUESTS = 20_000
MAX_IN_FLIGHT = 512  # also the most connections a probe holds open at once
MAX_REQUEST_TIMEOUT = 10.0  # seconds from a request's intended send time until it counts as a timeout
DEADLINE_GRACE = 2.0  # seconds after the last request's own timeout before the whole probe is cut

DEFAULT_RATE = 20.0
DEFAULT_DURATION = 10.0
DEFAULT_IN_FLIGHT = 400
DEFAULT_REQUEST_TIMEOUT = 5.0

# The generator kept its schedule when its lag p95 stays under this and it sent (almost) all it planned.
LAG_P95_LIMIT_MS = 5.0
MIN_ACHIEVED_RATIO = 0.95
READ_CHUNK = 65536


@dataclass(frozen=True)
class Plan:
    rate: float
    duration: float
    requests: int
    max_in_flight: int
    request_timeout: float
    capped: tuple[str, ...] = ()  # which asked-for values the caps lowered

    @classmethod
    def bounded(cls, rate=None, duration=None, *, max_requests=None, max_in_flight=None,
                request_timeout=None) -> Plan:
        capped = []

        def cap(name, value, default, limit, floor):
            value = default if value is None else float(value)
            if math.isnan(value) or value < floor:
                value = floor
            if value > limit:
                capped.append(name)
                value = limit
            return value

        rate = cap("rate", rate, DEFAULT_RATE, MAX_RATE, 0.1)
        duration = cap("duration", duration, DEFAULT_DURATION, MAX_DURATION, 0.1)
        limit = int(cap("max_requests", max_requests, MAX_REQUESTS, MAX_REQUESTS, 1))
        in_flight = int(cap("max_in_flight", max_in_flight, DEFAULT_IN_FLIGHT, MAX_IN_FLIGHT, 1))
        timeout = cap("request_timeout", request_timeout, DEFAULT_REQUEST_TIMEOUT, MAX_REQUEST_TIMEOUT, 0.05)
        planned = max(1, round(rate * duration))
        if planned > limit:
            capped.append("requests")
        return cls(rate, duration, min(planned, limit), in_flight, timeout, tuple(capped))

    @property
    def deadline_s(self) -> float:
        """The whole probe, however the target behaves: sending time + the last request's timeout + grace."""
        return self.requests / self.rate + self.request_timeout + DEADLINE_GRACE


@dataclass
class Sample:
    intended: float  # loop clock (time.monotonic) when the request was due
    lag: float  # seconds between `intended` and the moment the generator started it
    latency: float  # seconds from `intended` to the full response, or to giving up
    status: int | None = None
    error: str | None = None  # a stable word: timeout, connect_refused, http_5xx, ...
    cold: bool = False  # needed a new connection (TCP + TLS handshake inside its latency)


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def _figures(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"count": len(ordered), "p50_ms": _ms(percentile(ordered, 50)), "p95_ms": _ms(percentile(ordered, 95)),
            "p99_ms": _ms(percentile(ordered, 99)), "max_ms": _ms(ordered[-1] if ordered else None)}


@dataclass
class LoadReport:
    url: str
    plan: Plan
    samples: list[Sample]
    started: float  # loop clock of the first intended send
    unsent: int = 0  # requests never started (hard deadline)
    deadline_hit: bool = False
    connections_opened: int = 0
    waited_for_slot: int = 0  # requests that found the in-flight cap full and queued (still timed from intent)
    wall_s: float = 0.0
    _cache: dict = field(default_factory=dict, repr=False)

    # --- figures -------------------------------------------------------------------------------------------------
    def latency(self, pct: float) -> float | None:
        key = ("lat", pct)
        if key not in self._cache:
            self._cache[key] = percentile(sorted(s.latency for s in self.samples), pct)
        return self._cache[key]

    @property
    def p95_ms(self) -> float | None:
        return _ms(self.latency(95))

    @property
    def errors(self) -> Counter:
        return Counter(s.error for s in self.samples if s.error)

    @property
    def error_rate(self) -> float:
        attempted = len(self.samples) + self.unsent
        return (sum(self.errors.values()) + self.unsent) / attempted if attempted else 0.0

    @property
    def lag_p95_ms(self) -> float | None:
        return _ms(percentile(sorted(s.lag for s in self.samples), 95))

    @property
    def achieved_rate(self) -> float:
        """Requests started per second of schedule (the planned rate when the generator kept up)."""
        if not self.samples:
            return 0.0
        last_start = max(s.intended + s.lag for s in self.samples)
        span = max(last_start - self.started, 0.0) + 1 / self.plan.rate
        return len(self.samples) / span

    @property
    def inconclusive_reasons(self) -> list[str]:
        reasons = []
        lag = self.lag_p95_ms
        if lag is not None and lag > LAG_P95_LIMIT_MS:
            reasons.append(f"the generator started requests {lag:g} ms late at p95 (limit {LAG_P95_LIMIT_MS:g} ms): "
                           "this machine was too busy to keep the schedule")
        if self.samples and self.achieved_rate < MIN_ACHIEVED_RATIO * self.plan.rate:
            reasons.append(f"it sent {self.achieved_rate:.1f} requests/s of the {self.plan.rate:g} planned")
        if self.deadline_hit or self.unsent:
            reasons.append(f"the hard deadline ({self.plan.deadline_s:g} s) cut the run; {self.unsent} requests unsent")
        if not self.samples:
            reasons.append("no request was sent")
        return reasons

    @property
    def inconclusive(self) -> bool:
        return bool(self.inconclusive_reasons)

    def evidence(self) -> dict:
        lat = _figures([s.latency for s in self.samples])
        lag = _figures([s.lag for s in self.samples])
        cold = [s for s in self.samples if s.cold]
        first = min(self.samples, key=lambda s: s.intended) if self.samples else None
        return {
            "url": self.url,
            "planned_rate": self.plan.rate,
            "achieved_rate": round(self.achieved_rate, 1),
            "duration_s": self.plan.duration,
            "planned_requests": self.plan.requests,
            "samples": len(self.samples),
            "unsent": self.unsent,
            "p50_ms": lat["p50_ms"], "p95_ms": lat["p95_ms"], "p99_ms": lat["p99_ms"], "max_ms": lat["max_ms"],
            "error_rate": round(self.error_rate, 4),
            "errors": dict(self.errors),
            "statuses": dict(Counter(str(s.status) for s in self.samples if s.status is not None)),
            "generator_lag": {"p50_ms": lag["p50_ms"], "p95_ms": lag["p95_ms"], "p99_ms": lag["p99_ms"],
                              "max_ms": lag["max_ms"], "limit_p95_ms": LAG_P95_LIMIT_MS},
            "cold": _figures([s.latency for s in cold]),
            "warm": _figures([s.latency for s in self.samples if not s.cold]),
            "first_request_ms": _ms(first.latency) if first else None,
            "connections_opened": self.connections_opened,
            "waited_for_in_flight_cap": self.waited_for_slot,
            "limits": {"max_in_flight": self.plan.max_in_flight, "request_timeout_s": self.plan.request_timeout,
                       "deadline_s": round(self.plan.deadline_s, 1), "capped": list(self.plan.capped)},
            "deadline_hit": self.deadline_hit,
            "wall_s": round(self.wall_s, 2),
            "inconclusive": self.inconclusive,
            "inconclusive_reasons": self.inconclusive_reasons,
            "method": "open loop, constant arrival rate, latency from intended send time",
        }


class _Connection:
    __slots__ = ("reader", "writer", "http", "ip")

    def __init__(self, reader, writer, ip):
        self.reader, self.writer, self.ip = reader, writer, ip
        self.http = h11.Connection(h11.CLIENT)

    def usable(self) -> bool:
        return not (self.writer.is_closing() or self.reader.at_eof())

    def abort(self):
        self.writer.transport.abort()


class _Pool:
    """Keep-alive connections to one origin: a LIFO stack of idle ones, new ones through ScanNet.open."""

    def __init__(self, net: ScanNet, host: str, port: int, tls: ssl.SSLContext | None):
        self.net, self.host, self.port, self.tls = net, host, port, tls
        self.idle: list[_Connection] = []
        self.opened = 0

    async def get(self, *, fresh: bool = False) -> tuple[_Connection, bool]:
        while self.idle and not fresh:
            conn = self.idle.pop()
            if conn.usable():
                return conn, False
            conn.abort()
        reader, writer, ip = await self.net.open(self.host, self.port, tls=self.tls)
        self.opened += 1
        return _Connection(reader, writer, ip), True

    def put(self, conn: _Connection):
        http = conn.http
        if http.our_state is h11.DONE and http.their_state is h11.DONE and conn.usable():
            http.start_next_cycle()
            self.idle.append(conn)
        else:
            conn.abort()

    def close(self):
        for conn in self.idle:
            conn.abort()
        self.idle.clear()


class _StaleConnection(Exception):
    """A reused keep-alive connection the server had closed before answering: retried on a fresh one."""


class LoadProbe:
    def __init__(self, net: ScanNet, url: str, plan: Plan):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NetError("bad_url", f"cannot load-test {url!r}: only http(s) URLs with a host", url=url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise NetError("bad_url", f"bad port in {url!r}", url=url) from None
        self.net, self.url, self.plan = net, url, plan
        self.host = parts.hostname
        self.port = port
        self.path = request_target(parts)
        self.host_header = host_header(parts)
        self.tls = verified_context(net.profile.ca_bundle) if parts.scheme == "https" else None
        self.max_body = net.profile.max_body_bytes
        self.samples: list[Sample] = []
        self.waited_for_slot = 0

    async def run(self) -> LoadReport:
        plan = self.plan
        # Resolve (and judge the address) once up front: a refused or dead name is one error, not 10 000.
        await self.net.allowed_addresses(self.host)
        loop = asyncio.get_running_loop()
        pool = _Pool(self.net, self.host, self.port, self.tls)
        slots = asyncio.Semaphore(plan.max_in_flight)
        tasks: set[asyncio.Task] = set()
        started = loop.time() + 0.005
        sent = 0
        deadline_hit = False
        interval = 1.0 / plan.rate
        try:
            async with asyncio.timeout_at(started + plan.deadline_s):
                for i in range(plan.requests):
                    intended = started + i * interval
                    delay = intended - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    task = asyncio.create_task(self._one(pool, slots, intended))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    sent += 1
                if tasks:
                    await asyncio.wait(set(tasks))
        except TimeoutError:
            deadline_hit = True
        finally:
            for task in list(tasks):
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            pool.close()
        return LoadReport(url=self.url, plan=plan, samples=self.samples, started=started,
                          unsent=plan.requests - sent,
                          deadline_hit=deadline_hit, connections_opened=pool.opened,
                          waited_for_slot=self.waited_for_slot, wall_s=loop.time() - started)

    def _request_bytes(self, conn: _Connection) -> bytes:
        request = h11.Request(method="GET", target=self.path, headers=[
            ("Host", self.host_header), ("User-Agent", self.net.profile.user_agent + " load-probe"),
            ("Accept", "*/*"), ("Accept-Encoding", "identity")])
        return conn.http.send(request) + conn.http.send(h11.EndOfMessage())

    async def _one(self, pool: _Pool, slots: asyncio.Semaphore, intended: float):
        loop = asyncio.get_running_loop()
        sample = Sample(intended=intended, lag=loop.time() - intended, latency=0.0)
        try:
            # The timeout runs from the intended send time: waiting for a slot or a connection is latency too.
            async with asyncio.timeout_at(intended + self.plan.request_timeout):
                if slots.locked():
                    self.waited_for_slot += 1
                async with slots:
                    sample.status, sample.cold = await self._exchange_with_retry(pool)
        except TimeoutError:
            sample.error = "timeout"
        except asyncio.CancelledError:  # the hard deadline: still a sample, the slowest kind
            sample.error = "deadline"
            sample.latency = loop.time() - intended
            self.samples.append(sample)
            raise
        except NetError as exc:
            sample.error = exc.kind
        except h11.ProtocolError:
            sample.error = "bad_http"
        except (ssl.SSLError, OSError, _StaleConnection):
            sample.error = "connection_error"
        sample.latency = loop.time() - intended
        if sample.error is None and sample.status is not None and sample.status >= 400:
            sample.error = "http_5xx" if sample.status >= 500 else "http_4xx"
        self.samples.append(sample)

    async def _exchange_with_retry(self, pool: _Pool) -> tuple[int, bool]:
        conn, cold = await pool.get()
        try:
            return await self._exchange(pool, conn), cold
        except _StaleConnection:
            if cold:
                raise
        # The idle connection had been closed by the server (an idle timeout as we reused it): one more attempt, on
        # a new connection — the other idle ones are as old, and a second stale one would count as an error the
        # site did not cause.
        conn, _ = await pool.get(fresh=True)
        return await self._exchange(pool, conn), True

    async def _exchange(self, pool: _Pool, conn: _Connection) -> int:
        done = False
        got_bytes = False
        try:
            conn.writer.write(self._request_bytes(conn))
            status = None
            body = 0
            while True:
                event = conn.http.next_event()
                if event is h11.NEED_DATA:
                    try:
                        data = await conn.reader.read(READ_CHUNK)
                    except (ConnectionError, ssl.SSLError):
                        data = b""
                    if not data and not got_bytes:
                        raise _StaleConnection()
                    got_bytes = True
                    conn.http.receive_data(data)
                elif isinstance(event, h11.Response):
                    status = event.status_code
                elif isinstance(event, h11.Data):
                    body += len(event.data)
                    if body > self.max_body:  # enough: time to a capped body, then drop the connection
                        return status
                elif isinstance(event, h11.EndOfMessage):
                    done = True
                    return status
                elif isinstance(event, h11.ConnectionClosed):
                    raise NetError("read_error", "the server closed the connection mid-response")
        finally:
            if done:
                pool.put(conn)
            else:
                conn.abort()


async def run_load(net: ScanNet, url: str, plan: Plan) -> LoadReport:
    """Drive `url` at plan.rate for plan.duration through `net`; NetError when the name cannot be reached at all."""
    return await LoadProbe(net, url, plan).run()
