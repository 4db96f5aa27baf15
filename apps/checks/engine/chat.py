"""A chat client for the founder's chatbot endpoint, over ScanNet's guarded connections.

Two wire formats:
- "openai": OpenAI-compatible `/v1/chat/completions` (messages in, `choices[0].message` out; with `stream: true`
  server-sent events whose `data:` lines carry `choices[0].delta` and end with `[DONE]`; `tool_calls` either way);
- "json": a plain JSON body built from a template with a `{prompt}` placeholder, the reply found at a dotted path;
  actions (tool calls) are read from an `actions` / `tool_calls` list next to the reply or at the top level.

Every request is a POST on a fresh connection from `ScanNet.open()` (address guard, port map, SNI, connect timeout);
the reader here adds what a chat needs on top: timings of the first byte, the first *non-empty* token and every gap
between chunks, a gap budget (a stalled stream is aborted at the budget, not waited out), a first-token wait cap, a
hard deadline and the profile's body-size cap.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import h11

from .net import NetError, ScanNet, verified_context

FORMATS = ("openai", "json")
DEFAULT_MODEL = "default"
MAX_GAPS_KEPT = 500  # evidence keeps the first gaps; the largest one is tracked separately
# Keys an action list may hide under in the plain JSON format, and the keys of one action.
ACTION_LIST_KEYS = ("tool_calls", "actions", "tools", "function_calls")
ACTION_NAME_KEYS = ("name", "tool", "action", "function")
ACTION_ARG_KEYS = ("arguments", "args", "params", "parameters", "input")
REPLY_GUESS_KEYS = ("reply", "response", "answer", "message", "text", "content", "output", "delta", "token")


class ChatFormatError(ValueError):
    """The operator's chat template or reply path cannot be used."""


def render_body(template: str, prompt: str) -> bytes:
    """Fill the `{prompt}` placeholder with the prompt JSON-escaped; the result must be JSON."""
    if "{prompt}" not in template:
        raise ChatFormatError("the chat body template has no {prompt} placeholder")
    quoted = json.dumps(prompt)
    if '"{prompt}"' in template:
        text = template.replace('"{prompt}"', quoted)
    else:  # placeholder inside a longer string literal: insert the escaped characters without quotes
        text = template.replace("{prompt}", quoted[1:-1])
    try:
        json.loads(text)
    except ValueError as exc:
        raise ChatFormatError(f"the chat body template is not JSON once filled: {exc}") from None
    return text.encode()


def dig(data, path: str):
    """Value at a dotted path (`choices.0.message.content`); None when any step is missing."""
    node = data
    for step in [s for s in path.split(".") if s]:
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and step.lstrip("-").isdigit() and -len(node) <= int(step) < len(node):
            node = node[int(step)]
        else:
            return None
    return node


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # OpenAI content parts
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in value)
    return json.dumps(value)


def _arguments(raw) -> dict:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {"_raw": raw}
        return parsed if isinstance(parsed, dict) else {"_value": parsed}
    return {} if raw is None else {"_value": raw}


def normalise_action(item) -> dict | None:
    """{"name", "arguments"} from an OpenAI tool call or a plain JSON action; None if it is neither."""
    if not isinstance(item, dict):
        return None
    fn = item.get("function")
    if isinstance(fn, dict):
        return {"name": str(fn.get("name") or ""), "arguments": _arguments(fn.get("arguments"))}
    name = next((item[k] for k in ACTION_NAME_KEYS if isinstance(item.get(k), str)), None)
    if name is None:
        return None
    raw = next((item[k] for k in ACTION_ARG_KEYS if k in item), None)
    if raw is None:  # flat action: {"action": "send_email", "to": "..."}
        raw = {k: v for k, v in item.items() if k not in ACTION_NAME_KEYS and k not in ("id", "type")}
    return {"name": name, "arguments": _arguments(raw)}


def actions_in(data, reply_path: str | None = None) -> list[dict]:
    """Tool calls / actions in a JSON answer: next to the reply, in an OpenAI message, or at the top level."""
    places = [data]
    if reply_path and "." in reply_path:
        places.insert(0, dig(data, reply_path.rsplit(".", 1)[0]))
    message = dig(data, "choices.0.message")
    if isinstance(message, dict):
        places.insert(0, message)
    for place in places:
        if not isinstance(place, dict):
            continue
        for key in ACTION_LIST_KEYS:
            items = place.get(key)
            if isinstance(items, dict):
                items = [items]
            if isinstance(items, list):
                found = [a for a in (normalise_action(i) for i in items) if a]
                if found:
                    return found
    return []


@dataclass
class ChatEndpoint:
    """How to talk to one chat URL."""

    url: str
    format: str = "openai"
    body_template: str | None = None  # json format
    reply_path: str | None = None  # json format; guessed from common keys when None
    model: str = DEFAULT_MODEL
    headers: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ChatFormatError(f"chat format must be one of {', '.join(FORMATS)}")
        if self.format == "json" and self.body_template is None:
            self.body_template = '{"message": "{prompt}"}'

    @classmethod
    def for_url(cls, target, url: str) -> ChatEndpoint:
        """From Target options (`chat_format`, `chat_body`, `chat_reply`, `chat_model`, `chat_headers`), with a
        per-URL override in `chat_endpoints: {url: {format, body, reply, model, headers}}`."""
        per_url = (target.option("chat_endpoints", {}) or {}).get(url, {})

        def opt(key, option, default):
            return per_url.get(key, target.option(option, default))

        return cls(url=url, format=opt("format", "chat_format", "openai"), body_template=opt("body", "chat_body", None),
                   reply_path=opt("reply", "chat_reply", None), model=opt("model", "chat_model", DEFAULT_MODEL),
                   headers=dict(opt("headers", "chat_headers", {}) or {}))

    @property
    def supports_system_message(self) -> bool:
        return self.format == "openai"

    def body(self, messages: list[dict], *, stream: bool, tools: list | None = None) -> bytes:
        if self.format == "openai":
            payload = {"model": self.model, "messages": messages, "stream": stream}
            if tools:
                payload["tools"] = tools
            return json.dumps(payload).encode()
        prompt = "\n\n".join(m["content"] for m in messages if m["role"] == "user")
        return render_body(self.body_template, prompt)

    def reply_of(self, data) -> str:
        if self.format == "openai":
            return _as_text(dig(data, "choices.0.message.content") or dig(data, "choices.0.text"))
        if self.reply_path:
            return _as_text(dig(data, self.reply_path))
        if isinstance(data, dict):
            for key in REPLY_GUESS_KEYS:
                if isinstance(data.get(key), str):
                    return data[key]
        return _as_text(data) if isinstance(data, str) else ""

    def delta_of(self, data) -> tuple[str, list]:
        """(text, raw tool-call fragments) of one streamed event."""
        if self.format == "openai":
            delta = dig(data, "choices.0.delta") or {}
            if not isinstance(delta, dict):
                return "", []
            calls = delta.get("tool_calls") or []
            return _as_text(delta.get("content")), calls if isinstance(calls, list) else []
        if isinstance(data, str):
            return data, []
        return self.reply_of(data), []


@dataclass
class StreamTiming:
    ttfb_ms: int | None = None  # first byte of the response (status line)
    first_body_ms: int | None = None  # first byte of the body
    first_token_ms: int | None = None  # first non-empty piece of reply text (or tool call)
    last_token_ms: int | None = None
    total_ms: int = 0
    gaps_ms: list[int] = field(default_factory=list)  # between consecutive body reads, after the first
    max_gap_ms: int = 0
    chunks: int = 0  # body reads that delivered bytes
    tokens: int = 0  # non-empty text pieces (stream events or chunks)
    aborted: str | None = None  # first_token | stalled | deadline | size

    def evidence(self) -> dict:
        return {"ttfb_ms": self.ttfb_ms, "first_body_ms": self.first_body_ms, "first_token_ms": self.first_token_ms,
                "last_token_ms": self.last_token_ms, "total_ms": self.total_ms, "max_gap_ms": self.max_gap_ms,
                "gaps_ms": self.gaps_ms[:50], "gap_count": len(self.gaps_ms), "chunks": self.chunks, "tokens": self.tokens, "aborted": self.aborted}


@dataclass
class ChatReply:
    url: str
    status: int | None
    headers: list[tuple[str, str]]
    text: str
    actions: list[dict]
    timing: StreamTiming
    ip: str = ""
    body_bytes: int = 0
    truncated: bool = False
    mode: str = "none"  # sse | chunked | length | close | none
    error: str | None = None  # a protocol or JSON problem (status and timing still filled)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    @property
    def claims_streaming(self) -> bool:
        return self.mode in ("sse", "chunked")

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.error is None and not self.timing.aborted

    def summary(self) -> dict:
        return {"url": self.url, "status": self.status, "ip": self.ip, "mode": self.mode,
                "content_type": self.content_type, "bytes": self.body_bytes, "truncated": self.truncated,
                "error": self.error, **self.timing.evidence()}


@dataclass
class Budgets:
    deadline_s: float = 30.0  # the whole exchange
    first_token_wait_s: float = 15.0  # give up when no token has come this long after the request
    gap_s: float = 10.0  # silence allowed between two chunks once tokens flow


class _SseParser:
    """Incremental text/event-stream parser: feed bytes, get the `data` payload of each complete event."""

    def __init__(self):
        self.buffer = ""
        self.done = False

    def feed(self, data: bytes) -> list[str]:
        self.buffer += data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
        events = []
        while "\n\n" in self.buffer:
            block, self.buffer = self.buffer.split("\n\n", 1)
            lines = [ln[5:].removeprefix(" ") for ln in block.split("\n") if ln.startswith("data:")]
            if lines:
                events.append("\n".join(lines))
        return events

    def flush(self) -> list[str]:
        tail, self.buffer = self.buffer, ""
        return self.feed((tail + "\n\n").encode()) if tail.strip() else []


class _ToolCallAssembler:
    """OpenAI streams tool calls in fragments keyed by index: name once, arguments as string pieces."""

    def __init__(self):
        self.calls: dict[int, dict] = {}

    def add(self, fragments: list):
        for frag in fragments:
            if not isinstance(frag, dict):
                continue
            idx = frag.get("index", len(self.calls))
            call = self.calls.setdefault(idx, {"name": "", "arguments": ""})
            fn = frag.get("function") or {}
            call["name"] += fn.get("name") or ""
            args = fn.get("arguments")
            call["arguments"] += args if isinstance(args, str) else json.dumps(args) if args else ""

    def actions(self) -> list[dict]:
        return [{"name": c["name"], "arguments": _arguments(c["arguments"])} for _, c in sorted(self.calls.items())]


async def send_chat(net: ScanNet, endpoint: ChatEndpoint, messages: list[dict], *, stream: bool = False,
                    tools: list | None = None, budgets: Budgets | None = None) -> ChatReply:
    """POST one chat request and read the answer (streamed or not). NetError when no connection could be made
    or the server spoke no HTTP; a slow, stalled or oversized answer comes back as a ChatReply with `aborted`."""
    budgets = budgets or Budgets()
    parts = urlsplit(endpoint.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NetError("bad_url", f"cannot call {endpoint.url!r}: only http(s) URLs with a host", url=endpoint.url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise NetError("bad_url", f"bad port in {endpoint.url!r}", url=endpoint.url) from None
    body = endpoint.body(messages, stream=stream, tools=tools)
    tls = verified_context(net.profile.ca_bundle) if parts.scheme == "https" else None
    started = time.monotonic()
    reader, writer, ip = await net.open(parts.hostname, port, tls=tls)
    exchange = _Exchange(net, endpoint, ip, started, budgets)
    try:
        async with asyncio.timeout(budgets.deadline_s):
            await exchange.run(reader, writer, parts, body, stream)
    except TimeoutError:
        exchange.timing.aborted = "deadline"
    finally:
        writer.transport.abort()
    return exchange.finish()


class _Exchange:
    def __init__(self, net, endpoint, ip, started, budgets):
        self.net, self.endpoint, self.ip, self.started, self.budgets = net, endpoint, ip, started, budgets
        self.timing = StreamTiming()
        self.head = None
        self.body = bytearray()
        self.truncated = False
        self.sse = None
        self.text_parts: list[str] = []
        self.tool_calls = _ToolCallAssembler()
        self.last_read: float | None = None
        self.error = None

    def _ms(self, at: float) -> int:
        return int((at - self.started) * 1000)

    async def run(self, reader, writer, parts, body: bytes, stream: bool):
        p = self.net.profile
        host_header = parts.netloc.rsplit("@", 1)[-1]
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = [("Host", host_header), ("User-Agent", p.user_agent), ("Content-Type", "application/json"),
                   ("Accept", "text/event-stream, application/json" if stream else "application/json"),
                   ("Accept-Encoding", "identity"), ("Content-Length", str(len(body))), ("Connection", "close")]
        headers += [(k, str(v)) for k, v in self.endpoint.headers.items()]
        conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=p.max_header_bytes)
        writer.write(conn.send(h11.Request(method="POST", target=target, headers=headers)) + conn.send(h11.Data(data=body))
                     + conn.send(h11.EndOfMessage()))
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    data = await self._read(reader)
                    if data is None:
                        return
                    conn.receive_data(data)
                elif isinstance(event, h11.Response):
                    self.head = event
                    self._on_head()
                elif isinstance(event, h11.Data):
                    if not self._on_body(event.data):
                        return
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    return
        except h11.RemoteProtocolError as exc:
            if self.head is None:
                raise NetError("bad_http", f"{self.endpoint.url} did not answer with valid HTTP: {exc}",
                               url=self.endpoint.url, ip=self.ip) from None
            self.error = f"broken HTTP framing: {exc}"

    async def _read(self, reader) -> bytes | None:
        b = self.budgets
        if self.timing.first_token_ms is None:  # counted from the request: keep-alives do not extend it
            wait, why = max(0.0, self.started + b.first_token_wait_s - time.monotonic()), "first_token"
        else:
            wait, why = b.gap_s, "stalled"
        try:
            data = await asyncio.wait_for(reader.read(65536), wait)
        except TimeoutError:
            self.timing.aborted = why
            return None
        except OSError as exc:
            if self.head is None:
                raise NetError("read_error", f"reading {self.endpoint.url} failed: {exc}", url=self.endpoint.url,
                               ip=self.ip) from None
            self.error = f"connection broke: {exc}"
            return None
        now = time.monotonic()
        if data and self.timing.ttfb_ms is None:
            self.timing.ttfb_ms = self._ms(now)
        if data and self.head is not None:
            self._note_chunk(now)
        if not data:
            return b""
        return data

    def _note_chunk(self, now: float):
        t = self.timing
        if t.first_body_ms is None:
            t.first_body_ms = self._ms(now)
        elif self.last_read is not None:
            gap = int((now - self.last_read) * 1000)
            t.max_gap_ms = max(t.max_gap_ms, gap)
            if len(t.gaps_ms) < MAX_GAPS_KEPT:
                t.gaps_ms.append(gap)
        t.chunks += 1
        self.last_read = now

    def _on_head(self):
        ctype = dict((k.lower(), v) for k, v in self.head.headers).get(b"content-type", b"").decode("latin-1")
        if "text/event-stream" in ctype.lower():
            self.sse = _SseParser()

    def _on_body(self, data: bytes) -> bool:
        """Take one piece of body; False when reading must stop (size cap or end of stream)."""
        now = time.monotonic()
        if self.last_read is None or self.timing.first_body_ms is None:
            self._note_chunk(now)  # body bytes that came with the head
        cap = self.net.profile.max_body_bytes
        room = cap - len(self.body)
        self.body += data[:room]
        if len(data) > room:
            self.truncated = True
            self.timing.aborted = "size"
            return False
        if self.sse is not None:
            for payload in self.sse.feed(data):
                if payload.strip() == "[DONE]":
                    self.sse.done = True
                    continue
                self._on_event(payload, now)
            return not self.sse.done
        if self.endpoint.format == "json" or not self._looks_json_start():
            if data.strip():  # plain chunked text: any visible byte is a token
                self._token(now)
        return True

    def _looks_json_start(self) -> bool:
        return self.body[:1] in (b"{", b"[")

    def _on_event(self, payload: str, now: float):
        try:
            data = json.loads(payload)
        except ValueError:
            data = payload
        text, calls = self.endpoint.delta_of(data)
        if calls:
            self.tool_calls.add(calls)
        if self.endpoint.format == "json" and isinstance(data, dict):
            for action in actions_in(data, self.endpoint.reply_path):
                self.tool_calls.calls[len(self.tool_calls.calls)] = {"name": action["name"],
                                                                     "arguments": json.dumps(action["arguments"])}
        if text:
            self.text_parts.append(text)
        if text.strip() or calls:
            self._token(now)

    def _token(self, now: float):
        t = self.timing
        if t.first_token_ms is None:
            t.first_token_ms = self._ms(now)
        t.last_token_ms = self._ms(now)
        t.tokens += 1

    def finish(self) -> ChatReply:
        t = self.timing
        t.total_ms = self._ms(time.monotonic())
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in self.head.headers] if self.head else []
        mode = "none"
        actions: list[dict] = []
        text = ""
        if self.head is not None:
            te = next((v for k, v in headers if k == "transfer-encoding"), "")
            mode = ("sse" if self.sse is not None else "chunked" if "chunked" in te.lower()
                    else "length" if any(k == "content-length" for k, _ in headers) else "close")
        if self.sse is not None:
            if not self.sse.done:
                for payload in self.sse.flush():
                    if payload.strip() != "[DONE]":
                        self._on_event(payload, time.monotonic())
            text = "".join(self.text_parts)
            actions = self.tool_calls.actions()
        elif self.head is not None:
            text, actions = self._whole_body()
        return ChatReply(url=self.endpoint.url, status=self.head.status_code if self.head else None, headers=headers,
                         text=text, actions=actions, timing=t, ip=self.ip, body_bytes=len(self.body),
                         truncated=self.truncated, mode=mode, error=self.error)

    def _whole_body(self) -> tuple[str, list[dict]]:
        raw = bytes(self.body).decode("utf-8", "replace")
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if data is not None:
            if self.timing.first_token_ms is None and raw.strip():  # a JSON answer's tokens all come at once
                self.timing.first_token_ms = self.timing.first_body_ms
                self.timing.last_token_ms = self.timing.first_body_ms
                self.timing.tokens = 1
            return self.endpoint.reply_of(data), actions_in(data, self.endpoint.reply_path)
        lines = [ln for ln in raw.splitlines() if ln.strip()]
        parsed = []
        for ln in lines:  # NDJSON: one JSON object per line
            try:
                parsed.append(json.loads(ln))
            except ValueError:
                parsed = []
                break
        if parsed:
            text = "".join(self.endpoint.delta_of(p)[0] or self.endpoint.reply_of(p) for p in parsed)
            actions = [a for p in parsed for a in actions_in(p, self.endpoint.reply_path)]
            return text, actions
        return raw, []
