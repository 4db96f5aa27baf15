from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render

from apps.tenants.models import ClientAccess, Membership


def home(request):
    """Consultants land on their dashboard, founders on their portal, everyone else on the welcome page."""
    if request.user.is_authenticated:
        if Membership.objects.filter(user=request.user).exists():
            return redirect("sprints:dashboard")
        if ClientAccess.objects.filter(user=request.user).exists():
            return redirect("sprints:portal")
    return render(request, "core/home.html")


def healthz(request):
    """Machine-readable liveness: the web process answers and the database responds."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # noqa: BLE001 - any database failure means "not healthy", reported as such
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return JsonResponse({"status": "ok" if status == 200 else "degraded", "database": database}, status=status)


RETRY_AFTER_SECONDS = 15


def server_error(request, *args, **kwargs):
    """handler500: a database that is down or restarting is a 503 with a friendly page and Retry-After, not a 500.

    Runs inside Django's exception handling, so sys.exc_info() is the exception that got here. The page is rendered
    without the request's context processors: they would ask the database (session, user) again."""
    import sys

    from django.db import DatabaseError, InterfaceError, OperationalError
    from django.http import HttpResponse, HttpResponseServerError
    from django.template import loader

    exc = sys.exc_info()[1]
    if isinstance(exc, (OperationalError, InterfaceError)) or (
            isinstance(exc, DatabaseError) and "connection" in str(exc).lower()):
        html = loader.render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS,
                                                    "request_id": getattr(request, "request_id", "")})
        response = HttpResponse(html, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
    from django.views.defaults import server_error as default_server_error

    try:
        return default_server_error(request, *args, **kwargs)
    except Exception:  # noqa: BLE001 - the fallback page must never fail in turn
        return HttpResponseServerError("<h1>Server Error (500)</h1>", content_type="text/html")
