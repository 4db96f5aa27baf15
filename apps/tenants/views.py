from django.contrib.auth.decorators import login_required
from django.shortcuts import render


def signup(request):
    return render(request, "tenants/signup.html")


@login_required
def account(request):
    return render(request, "tenants/account.html")
