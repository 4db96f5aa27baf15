"""Request ids: one id per web request or Celery task, on every log record and in the X-Request-ID header.

The id lives in a contextvar (safe across threads and async code). The middleware takes a sane incoming
X-Request-ID (a proxy's, so one id follows the request through every hop) or makes a new one; tasks published while
it is set carry it in their message headers, and the worker restores it around the task.
"""

import re
import uuid
from contextvars import ContextVar

from celery.signals import before_task_publish, task_postrun, task_prerun

HEADER = "X-Request-ID"
_SANE = re.compile(r"^[A-Za-z0-9._:@-]{8,128}$")
current = ContextVar("request_id", default="")


def sane(value) -> bool:
    """Short, printable, no spaces or quotes: anything else could forge or break a log line."""
    return isinstance(value, str) and bool(_SANE.match(value))


def new_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE, so even redirects and errors from later middleware carry the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if sane(incoming) else new_id()
        request.request_id = request_id
        token = current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response[HEADER] = request_id
        return response


# --- Celery: carry the id from the publisher to the task ----------------------------------------------------------
@before_task_publish.connect(dispatch_uid="request-id-publish")
def _put_request_id_in_headers(headers=None, **_kwargs):
    if headers is not None and current.get():
        headers["request_id"] = current.get()


_task_tokens = {}


@task_prerun.connect(dispatch_uid="request-id-prerun")
def _restore_request_id(task_id=None, task=None, **_kwargs):
    incoming = getattr(task.request, "request_id", None) if task is not None else None
    # Tasks nobody's request started (beat, re-dispatch) are traced by their own task id.
    _task_tokens[task_id] = current.set(incoming if sane(incoming) else f"task-{task_id}")


@task_postrun.connect(dispatch_uid="request-id-postrun")
def _clear_request_id(task_id=None, **_kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        try:
            current.reset(token)
        except ValueError:  # set in another context (should not happen with prefork/solo pools)
            current.set("")
