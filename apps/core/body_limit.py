"""Requests whose declared body is larger than anything the app accepts are refused before it is read.

Django streams a multipart body to a temporary file before any form sees it, so an upload's own size check (the
repository bundle's REPO_UPLOAD_MAX_BYTES) comes after the disk has taken the whole thing: a 30 GB POST would
fill it. The limit is the largest upload plus room for the form's other fields.
"""

from django.conf import settings
from django.http import HttpResponse

SLACK_BYTES = 1024 * 1024  # the rest of a form around its largest file


def max_request_bytes() -> int:
    return settings.REPO_UPLOAD_MAX_BYTES + SLACK_BYTES


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        limit = max_request_bytes()
        if declared > limit:
            return HttpResponse(f"The request is larger than {limit // (1024 * 1024)} MB, the most this site "
                                f"accepts.", status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
