import logging
import smtplib

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from apps.core.client_ip import client_ip

from . import emails, throttle, two_factor
from .access import clients_of, get_client_for, get_invitation_for, get_workspace_for
from .forms import (
    AcceptInvitationForm,
    EmailAuthenticationForm,
    EmailChangeForm,
    FounderInviteForm,
    FounderRemovalForm,
    MemberInviteForm,
    MemberRemovalForm,
    ProfileForm,
    SignupForm,
    TwoFactorCodeForm,
    WorkspaceSettingsForm,
)
from .models import ClientAccess, Invitation, User

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
logger = logging.getLogger(__name__)


def _data(request):
    """The POST data for a bound form, or None for an unbound one (GET)."""
    return request.POST if request.method == "POST" else None


def _only(request, *methods):
    """A 405 response unless the request uses one of methods (checked after access, so outsiders see 404)."""
    return None if request.method in methods else HttpResponseNotAllowed(methods)


# --- sign-up, login, passwords --------------------------------------------------------------------------------
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save()
        except IntegrityError:  # the same address signed up in between (a double submit): say so, no 500
            form.add_error("email", "An account with this email already exists. Log in instead.")
            return render(request, "tenants/signup.html", {"form": form})
        login(request, user, backend=MODEL_BACKEND)
        messages.success(request, "Welcome! Your workspace is ready.")
        return redirect("home")
    return render(request, "tenants/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    template_name = "tenants/login.html"
    authentication_form = EmailAuthenticationForm

    def form_valid(self, form):
        user = form.get_user()
        if two_factor.is_enabled(user):
            # The password was right; the session is not logged in until the second step (login_verify).
            two_factor.start_pending(self.request, user, self.get_redirect_url())
            return redirect("tenants:login_verify")
        return super().form_valid(form)


def login_verify(request):
    """Second login step for users with two-factor on: a TOTP code or a recovery code."""
    found = two_factor.pending(request)
    if found is None:
        two_factor.clear_pending(request)
        messages.info(request, "Log in with your email and password first.")
        return redirect("tenants:login")
    user, backend, next_url = found
    ip = client_ip(request)
    locked = request.method == "POST" and throttle.is_locked(user.email, ip)
    form = TwoFactorCodeForm(user, _data(request), locked=locked)
    if request.method == "POST":
        if form.is_valid():
            two_factor.clear_pending(request)
            throttle.clear_account(user.email, ip)
            login(request, user, backend=backend)
            django_otp.login(request, form.device)
            safe = url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure())
            return redirect(next_url if next_url and safe else settings.LOGIN_REDIRECT_URL)
        elif not locked:
            throttle.record_failure(user.email, ip)
    return render(request, "tenants/login_verify.html", {"form": form})


# --- two-factor enrolment ---------------------------------------------------------------------------------------
@login_required
def two_factor_settings(request):
    """Status page: turn two-factor on (shows the secret once), or off (needs a current code)."""
    enabled = two_factor.is_enabled(request.user)
    return render(request, "tenants/two_factor.html", {"enabled": enabled,
                                                        "disable_form": TwoFactorCodeForm(request.user)})


@login_required
def two_factor_setup(request):
    """POST: a new secret, shown in this response only, with the form that confirms the first code."""
    if (refused := _only(request, "POST")) is not None:
        return refused
    if two_factor.is_enabled(request.user):
        return redirect("tenants:two_factor")
    device = two_factor.start_enrolment(request.user)
    return render(request, "tenants/two_factor_setup.html", {
        "secret": two_factor.secret_of(device), "qr_svg": two_factor.qr_svg(device),
        "form": TwoFactorCodeForm(request.user)})


@login_required
def two_factor_confirm(request):
    """POST a code from the new device: two-factor is on and the recovery codes are shown, once."""
    if (refused := _only(request, "POST")) is not None:
        return refused
    device = two_factor.unconfirmed_device(request.user)
    if device is None or two_factor.is_enabled(request.user):
        return redirect("tenants:two_factor")
    form = TwoFactorCodeForm(request.user, request.POST, device=device)
    if not form.is_valid():
        # The secret is not shown again: people who lost it start over.
        return render(request, "tenants/two_factor_setup.html", {"form": form}, status=200)
    codes = two_factor.confirm_enrolment(request.user, device)
    django_otp.login(request, device)
    logger.info("two-factor enabled", extra={"user_id": str(request.user.pk)})
    return render(request, "tenants/two_factor_codes.html", {"codes": codes})


@login_required
def two_factor_disable(request):
    if (refused := _only(request, "POST")) is not None:
        return refused
    if not two_factor.is_enabled(request.user):
        return redirect("tenants:two_factor")
    form = TwoFactorCodeForm(request.user, request.POST)
    if not form.is_valid():
        return render(request, "tenants/two_factor.html", {"enabled": True, "disable_form": form})
    two_factor.disable(request.user)
    logger.info("two-factor disabled", extra={"user_id": str(request.user.pk)})
    messages.success(request, "Two-factor sign-in is off.")
    return redirect("tenants:two_factor")


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    template_name = "tenants/password_change.html"
    success_url = reverse_lazy("tenants:account")
    success_message = "Your password was changed."


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "tenants/password_reset.html"
    email_template_name = "tenants/emails/password_reset.txt"
    subject_template_name = "tenants/emails/password_reset_subject.txt"
    success_url = reverse_lazy("tenants:password_reset_done")

    def form_valid(self, form):
        # Links are built from SITE_URL, never from the request's Host header.
        self.extra_email_context = {"site_url": settings.SITE_URL,
                                    "hours": settings.PASSWORD_RESET_TIMEOUT // 3600}
        return super().form_valid(form)


class PasswordResetConfirmView(SuccessMessageMixin, auth_views.PasswordResetConfirmView):
    template_name = "tenants/password_reset_confirm.html"
    post_reset_login = True
    post_reset_login_backend = MODEL_BACKEND
    success_url = reverse_lazy("home")
    success_message = "Your password was reset and you are logged in."

    def form_valid(self, form):
        # The lock message says "or reset your password": a reset ends the account's lock (from this IP).
        throttle.clear_account(form.user.email, client_ip(self.request))
        # A reset link proves the mailbox, not the second factor: users with two-factor log in again.
        if two_factor.is_enabled(form.user):
            self.post_reset_login = False
            self.success_url = reverse_lazy("tenants:login")
            self.success_message = "Your password was reset. Log in with it and your two-factor code."
        return super().form_valid(form)


# --- account and email change -----------------------------------------------------------------------------------
@login_required
def account(request):
    user = request.user
    form = ProfileForm(_data(request), instance=user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved.")
        return redirect("tenants:account")
    memberships = list(user.memberships.select_related("workspace").order_by("workspace__name"))
    roles = {m.workspace_id: m.role for m in memberships}
    clients = [(client, roles.get(client.workspace_id, "founder"))
               for client in clients_of(user).select_related("workspace").order_by("workspace__name", "name")]
    return render(request, "tenants/account.html", {"form": form, "memberships": memberships, "clients": clients})


@login_required
def email_change(request):
    form = EmailChangeForm(request.user, _data(request))
    if request.method == "POST" and form.is_valid():
        new_email = form.cleaned_data["new_email"]
        emails.send_email_change_confirmation(request.user, new_email, request.user.email_change_token(new_email))
        messages.success(request, f"We sent a confirmation link to {new_email}. "
                                  "Your address changes when you open it.")
        return redirect("tenants:account")
    return render(request, "tenants/email_change.html", {"form": form})


@login_required
def email_confirm(request, token):
    """The link from the confirmation email: shows what changes, and changes it on POST."""
    user = request.user
    new_email = user.email_from_change_token(token)
    if new_email is None:
        return render(request, "tenants/email_confirm_invalid.html", status=404)
    if request.method == "POST":
        old_email = user.email
        try:
            user.change_email(new_email)
        except ValidationError as exc:
            return render(request, "tenants/email_confirm_invalid.html", {"reason": exc.messages[0]}, status=409)
        emails.send_email_changed_notice(user, old_email)
        messages.success(request, f"Your email address is now {new_email}.")
        return redirect("tenants:account")
    return render(request, "tenants/email_confirm.html", {"new_email": new_email})


# --- workspaces ---------------------------------------------------------------------------------------------
def workspace_settings(request, workspace_id):
    workspace, _role = get_workspace_for(request, workspace_id, owner=True)
    if request.method == "POST":
        form = WorkspaceSettingsForm(request.POST, request.FILES, instance=workspace)
        if form.is_valid():
            form.save()
            messages.success(request, "Workspace settings saved.")
            return redirect("tenants:workspace_settings", workspace_id=workspace.pk)
        workspace.refresh_from_db()  # the header shows the saved name, not the refused one
    else:
        form = WorkspaceSettingsForm(instance=workspace)
    return render(request, "tenants/workspace_settings.html", {"workspace": workspace, "form": form})


def _members_page(request, workspace, role, *, invite_form=None, removal_form=None, status=200):
    memberships = workspace.memberships.select_related("user").order_by("-role", "user__email")
    owner_count = sum(1 for m in memberships if m.role == "owner")
    return render(request, "tenants/members.html", {
        "workspace": workspace,
        "is_owner": role == "owner",
        "memberships": memberships,
        "owner_count": owner_count,
        "invitations": workspace.pending_invitations(),
        "invite_form": invite_form or (MemberInviteForm(workspace) if role == "owner" else None),
        "removal_form": removal_form,
    }, status=status)


def members(request, workspace_id):
    workspace, role = get_workspace_for(request, workspace_id)
    return _only(request, "GET", "HEAD") or _members_page(request, workspace, role)


def _issue_and_send(form, inviter) -> bool:
    """Issue the invitation and email its link; if the mail server refuses, withdraw it and say so on the form."""
    invitation, token = form.save(invited_by=inviter)
    try:
        emails.send_invitation(invitation, token)
    except (OSError, smtplib.SMTPException):
        logger.exception("Could not send invitation %s", invitation.pk)
        invitation.delete()
        form.add_error(None, "We could not send the invitation email just now. Please try again in a minute.")
        return False
    return True


def member_invite(request, workspace_id):
    workspace, role = get_workspace_for(request, workspace_id, owner=True)
    if request.method != "POST":
        return redirect("tenants:members", workspace_id=workspace.pk)
    form = MemberInviteForm(workspace, request.POST)
    if not (form.is_valid() and _issue_and_send(form, request.user)):
        return _members_page(request, workspace, role, invite_form=form)
    messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
    return redirect("tenants:members", workspace_id=workspace.pk)


def member_remove(request, workspace_id):
    workspace, role = get_workspace_for(request, workspace_id, owner=True)
    if request.method != "POST":
        return redirect("tenants:members", workspace_id=workspace.pk)
    form = MemberRemovalForm(workspace, request.POST)
    removed = form.save() if form.is_valid() else None
    if removed is None:
        return _members_page(request, workspace, role, removal_form=form)
    messages.success(request, f"{removed.user.display_name} was removed from {workspace.name}.")
    if removed.user_id == request.user.pk:
        return redirect("tenants:account")
    return redirect("tenants:members", workspace_id=workspace.pk)


def invitation_revoke(request, invitation_id):
    """Owners withdraw any pending invitation; consultants only founder invitations (they may issue those)."""
    invitation, role = get_invitation_for(request, invitation_id)
    if role != "owner" and not invitation.is_for_founder:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if invitation.is_accepted:
        messages.info(request, f"{invitation.email} already accepted this invitation.")
    else:
        Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).delete()
        messages.success(request, f"The invitation for {invitation.email} was revoked; its link no longer works.")
    if invitation.is_for_founder:
        return redirect("tenants:client_invite", client_id=invitation.client_id)
    return redirect("tenants:members", workspace_id=invitation.workspace_id)


# --- founders -----------------------------------------------------------------------------------------------------
def client_invite(request, client_id):
    client, _role = get_client_for(request, client_id, consultant=True)
    form = FounderInviteForm(client, _data(request))
    if request.method == "POST" and form.is_valid() and _issue_and_send(form, request.user):
        messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
        return redirect("tenants:client_invite", client_id=client.pk)
    founders = ClientAccess.objects.filter(client=client).select_related("user").order_by("user__email")
    invitations = client.invitations.filter(pk__in=client.workspace.pending_invitations().values("pk"))
    return render(request, "tenants/client_invite.html", {
        "client": client, "form": form, "founders": founders, "invitations": invitations.select_related("invited_by"),
    })


def founder_remove(request, client_id):
    """A consultant takes a founder's access to this client away (they left the startup, or the wrong person was
    invited): their next request to anything of the client is a 404."""
    client, _role = get_client_for(request, client_id, consultant=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = FounderRemovalForm(client, request.POST)
    if form.is_valid():
        access = form.cleaned_data["access"]
        ClientAccess.objects.filter(pk=access.pk).delete()
        client.log(request.user, f"removed {access.user.email}'s founder access")
        messages.success(request, f"{access.user.display_name} no longer has access to {client.name}.")
    else:
        messages.info(request, "That person no longer has access.")
    return redirect("tenants:client_invite", client_id=client.pk)


# --- invitation acceptance ------------------------------------------------------------------------------------
def _landing(invitation):
    return redirect("sprints:portal" if invitation.is_for_founder else "home")


def invitation_accept(request, token):
    """The emailed link. Works once, expires; the token is the credential, so no membership is needed."""
    invitation = Invitation.find(token)
    if invitation is None or invitation.is_accepted or invitation.is_expired:
        return _invalid_invitation(request, invitation)

    context = {"invitation": invitation, "token": token}
    user = request.user
    if user.is_authenticated:
        if user.email.lower() != invitation.email:
            return render(request, "tenants/invitation_accept.html", {**context, "state": "other_account"})
        if request.method == "POST":
            if not invitation.accept(user):
                # Used, revoked or expired since the page was loaded: reload to say which.
                return _invalid_invitation(request, Invitation.find(token))
            messages.success(request, _welcome(invitation))
            return _landing(invitation)
        return render(request, "tenants/invitation_accept.html", {**context, "state": "confirm"})

    if User.email_is_taken(invitation.email):
        login_url = f"{reverse('tenants:login')}?{urlencode({'next': request.path})}"
        return render(request, "tenants/invitation_accept.html",
                      {**context, "state": "log_in", "login_url": login_url})

    form = AcceptInvitationForm(invitation, _data(request))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                new_user = form.create_user()
                accepted = invitation.accept(new_user)
                if not accepted:
                    # Someone used (or revoked) the link in the meantime: no account without the invitation.
                    transaction.set_rollback(True)
        except IntegrityError:  # a double submit created the account first: that one accepted the link
            accepted = False
        if not accepted:
            return _invalid_invitation(request, Invitation.find(token))
        login(request, new_user, backend=MODEL_BACKEND)
        messages.success(request, _welcome(invitation))
        return _landing(invitation)
    return render(request, "tenants/invitation_accept.html", {**context, "state": "sign_up", "form": form})


def _invalid_invitation(request, invitation):
    """Unknown (404), or used or expired (410): a page that says which, never a 500."""
    status = 404 if invitation is None else 410
    return render(request, "tenants/invitation_invalid.html", {"invitation": invitation}, status=status)


def _welcome(invitation):
    if invitation.is_for_founder:
        return f"Welcome! You can now follow {invitation.client.name}'s launch sprint."
    return f"Welcome to {invitation.workspace.name}."
