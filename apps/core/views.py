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
