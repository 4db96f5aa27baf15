"""A local fake of the few Stripe API endpoints Launch Ready uses — TEST MODE ONLY, never a payment.

Endpoints: create / retrieve / list Checkout Sessions, refunds, and a hosted "payment page" at /pay/<session id>
whose button marks the session paid, delivers a signed `checkout.session.completed` webhook (when a webhook URL is
set) and redirects to the session's success URL. Tests drive it directly (pay(), refund(), event()).
It honours Idempotency-Key like Stripe (same key → same response) and records every request.

Used by tests (the SDK pointed at it with STRIPE_API_BASE) and by the demo (`manage.py fakestripe`).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import urllib.request
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import stripe

API_VERSION = "2026-10-28.endive"


def _id(prefix):
    return f"{prefix}_test_{secrets.token_hex(12)}"


def _form(body: bytes) -> dict:
    """Stripe's form encoding (a[b][0][c]=v) as flat keys; enough for the fields we read."""
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


class FakeStripe:
    def __init__(self, host="127.0.0.1", port=0, webhook_url="", webhook_secret=""):
        self.sessions: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.delivered: list[tuple[dict, int]] = []
        self.webhook_url, self.webhook_secret = webhook_url, webhook_secret
        self._idempotent: dict[str, tuple[int, dict]] = {}
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = None

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # --- what a test (or the payment page) does -------------------------------------------------------------------
    def pay(self, session_id, *, asynchronous=False):
        """The buyer pays. Card: paid at once. asynchronous (e.g. a bank debit): complete but unpaid until
        settle() decides. Returns the checkout.session.completed event (not delivered)."""
        with self._lock:
            session = self.sessions[session_id]
            session["status"] = "complete"
            session["payment_intent"] = session["payment_intent"] or _id("pi")
            session["payment_status"] = "unpaid" if asynchronous else "paid"
        return self.event("checkout.session.completed", session)

    def settle(self, session_id, *, succeeded: bool):
        with self._lock:
            session = self.sessions[session_id]
            session["payment_status"] = "paid" if succeeded else "unpaid"
        kind = "succeeded" if succeeded else "failed"
        return self.event(f"checkout.session.async_payment_{kind}", session)

    def refund(self, session_id):
        """Refund the session's payment in full; returns the charge.refunded event (not delivered)."""
        session = self.sessions[session_id]
        return self.event("charge.refunded", self._charge(session["payment_intent"], refunded=True,
                                                          amount=session["amount_total"]))

    def _charge(self, payment_intent, *, refunded, amount):
        return {"id": _id("ch"), "object": "charge", "payment_intent": payment_intent, "refunded": refunded,
                "amount": amount, "amount_refunded": amount if refunded else 0, "livemode": False}

    def event(self, kind, obj):
        return {"id": _id("evt"), "object": "event", "api_version": API_VERSION, "created": int(time.time()),
                "type": kind, "livemode": False, "data": {"object": json.loads(json.dumps(obj))}}

    def signed(self, event, *, timestamp=None, secret=None):
        """(body, Stripe-Signature header) signed with Stripe's scheme (HMAC-SHA256 over "t.body")."""
        body = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(body, secret or self.webhook_secret, timestamp)
        return body, header

    def deliver(self, event):
        """POST the signed event to the webhook URL, as Stripe would; returns the status code."""
        body, header = self.signed(event)
        request = urllib.request.Request(self.webhook_url, data=body.encode(), method="POST",
                                         headers={"Content-Type": "application/json", "Stripe-Signature": header})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        self.delivered.append((event, status))
        return status

    # --- HTTP ------------------------------------------------------------------------------------------------------
    def _handle(self, handler, method):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        path, query = parts.path, dict(parse_qsl(parts.query))
        form = _form(body) if method == "POST" else {}
        self.requests.append({"method": method, "path": path, "headers": dict(handler.headers), "form": form,
                              "query": query})
        if path.startswith("/pay/"):
            return self._payment_page(handler, method, path[len("/pay/"):])
        if not (handler.headers.get("Authorization") or "").startswith("Bearer sk_test_"):
            return self._json(handler, 401, {"error": {"type": "invalid_request_error",
                                                       "message": "Invalid API Key provided (test mode only)."}})
        key = handler.headers.get("Idempotency-Key")
        if method == "POST" and key:
            with self._lock:
                if key in self._idempotent:
                    status, payload = self._idempotent[key]
                    return self._json(handler, status, payload)
        status, payload = self._route(method, path, form, query)
        if method == "POST" and key:
            with self._lock:
                self._idempotent[key] = (status, payload)
        return self._json(handler, status, payload)

    def _route(self, method, path, form, query):
        if path == "/v1/checkout/sessions" and method == "POST":
            return 200, self._create_session(form)
        if path == "/v1/checkout/sessions" and method == "GET":
            found = [s for s in self.sessions.values()
                     if not query.get("payment_intent") or s["payment_intent"] == query["payment_intent"]]
            return 200, {"object": "list", "data": found, "has_more": False, "url": "/v1/checkout/sessions"}
        match = re.fullmatch(r"/v1/checkout/sessions/([\w-]+)", path)
        if match and method == "GET":
            session = self.sessions.get(match.group(1))
            if session is None:
                return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                       "message": f"No such checkout.session: '{match.group(1)}'"}}
            return 200, session
        if path == "/v1/refunds" and method == "POST":
            refund = {"id": _id("re"), "object": "refund", "payment_intent": form.get("payment_intent"),
                      "status": "succeeded"}
            self.refunds[refund["id"]] = refund
            return 200, refund
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unknown fake endpoint {path}"}}

    def _create_session(self, form):
        session_id = _id("cs")
        session = {
            "id": session_id, "object": "checkout.session", "mode": form.get("mode"), "livemode": False,
            "client_reference_id": form.get("client_reference_id"), "customer_email": form.get("customer_email"),
            "amount_total": int(form.get("line_items[0][price_data][unit_amount]") or 0)
            * int(form.get("line_items[0][quantity]") or 1),
            "currency": (form.get("line_items[0][price_data][currency]") or "").lower(),  # as Stripe answers
            "success_url": form.get("success_url"), "cancel_url": form.get("cancel_url"),
            "metadata": {k[len("metadata["):-1]: v for k, v in form.items() if k.startswith("metadata[")},
            "status": "open", "payment_status": "unpaid", "payment_intent": None,
            "url": f"{self.url}/pay/{session_id}",
        }
        with self._lock:
            self.sessions[session_id] = session
        return session

    def _payment_page(self, handler, method, session_id):
        session = self.sessions.get(session_id)
        if session is None:
            return self._html(handler, 404, "<h1>No such session</h1>")
        if method == "POST":
            event = self.pay(session_id)
            if self.webhook_url:
                threading.Thread(target=self.deliver, args=(event,), daemon=True).start()
            target = (session["success_url"] or "/").replace("{CHECKOUT_SESSION_ID}", session_id)
            handler.send_response(303)
            handler.send_header("Location", target)
            handler.end_headers()
            return None
        amount = f"{session['amount_total'] / 100:.2f} {(session['currency'] or '').upper()}"
        return self._html(handler, 200, f"""
<p style="background:#f59e0b;padding:.5em;font-weight:bold">TEST MODE — a local fake of Stripe Checkout.
No card is charged and no money moves.</p>
<h1>Pay {escape(amount)}</h1><p>{escape(session['customer_email'] or '')}</p>
<form method="post"><button type="submit">Pay (test mode)</button></form>
<p><a href="{escape(session['cancel_url'] or '/')}">Cancel</a></p>""")

    @staticmethod
    def _json(handler, status, payload):
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", _id("req"))
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _html(handler, status, body):
        data = f"<!doctype html><title>Fake Stripe (test mode)</title>{body}".encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
