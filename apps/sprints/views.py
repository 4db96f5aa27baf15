from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def dashboard(request):
    return render(request, "sprints/dashboard.html")


@login_required
def portal(request):
    return render(request, "sprints/portal.html")
