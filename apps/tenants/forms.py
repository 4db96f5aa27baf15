import uuid

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from PIL import Image, UnidentifiedImageError

from apps.core.client_ip import client_ip

from . import throttle, two_factor
from .models import ClientAccess, Invitation, LastOwnerError, Membership, User, Workspace

PASSWORD_WIDGET = forms.PasswordInput(attrs={"autocomplete": "new-password"})


def _validate_new_password(form, field, password, user):
    """Run Django's password validators; errors go on the password field, not the whole form."""
    if not password:
        return
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        form.add_error(field, exc)


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form, labelled for email addresses (our USERNAME_FIELD)."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget = forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email",
                                                                 "maxlength": 254})

    def clean_username(self):
        # Accounts are stored lower-case (UserManager.create_user); people type their address however they like.
        return (self.cleaned_data.get("username") or "").strip().lower()

    def clean(self):
        # Throttled per account and per IP (apps/tenants/throttle.py); a locked login is refused before the
        # password is checked, so the answer says nothing about whether the password was right.
        email, ip = self.cleaned_data.get("username") or "", client_ip(self.request)
        if throttle.is_locked(email, ip):
            raise ValidationError(throttle.locked_message(), code="locked")
        try:
            data = super().clean()
        except ValidationError:
            if email and self.cleaned_data.get("password"):
                throttle.record_failure(email, ip)
            raise
        throttle.clear_account(email, ip)
        return data


class SignupForm(forms.Form):
    name = forms.CharField(max_length=150, label="Your name", widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(strip=False, max_length=128, widget=PASSWORD_WIDGET,
                               help_text=password_validation.password_validators_help_text_html())
    workspace_name = forms.CharField(max_length=120, label="Workspace name",
                                     help_text="Your consultancy, as your clients will see it.")

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if User.email_is_taken(email):
            raise ValidationError("An account with this email already exists: log in, or reset your password.")
        return email

    def clean(self):
        data = super().clean()
        candidate = User(email=data.get("email", ""), name=data.get("name", ""))
        _validate_new_password(self, "password", data.get("password"), candidate)
        return data

    def save(self):
        """Create the user, their workspace and the owner membership; returns the user."""
        data = self.cleaned_data
        user = User.objects.create_user(data["email"], data["password"], name=data["name"])
        Workspace.create_with_owner(name=data["workspace_name"], owner=user)
        return user


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["name"]


class EmailChangeForm(forms.Form):
    new_email = forms.EmailField(max_length=254, label="New email address")
    current_password = forms.CharField(strip=False, max_length=128, label="Current password",
                                       widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_new_email(self):
        email = self.cleaned_data["new_email"].lower()
        if email == self.user.email.lower():
            raise ValidationError("That is already your email address.")
        if User.email_is_taken(email):
            raise ValidationError("Another account uses that email address.")
        return email

    def clean_current_password(self):
        password = self.cleaned_data["current_password"]
        if not self.user.check_password(password):
            raise ValidationError("That is not your current password.")
        return password


class WorkspaceSettingsForm(forms.ModelForm):
    """Name and branding. Logos: PNG, JPEG or WebP only, checked by opening them with Pillow."""

    LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
    LOGO_MAX_SIDE = 4096

    class Meta:
        model = Workspace
        fields = ["name", "logo", "primary_colour", "accent_colour", "footer_text"]
        labels = {"primary_colour": "Primary colour", "accent_colour": "Accent colour"}
        help_texts = {
            "logo": "PNG, JPEG or WebP.",
            "primary_colour": "Hex, like #1d4ed8.",
            "accent_colour": "Hex, like #f59e0b.",
            "footer_text": "Shown at the foot of what your clients see.",
        }
        widgets = {
            "logo": forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
            "primary_colour": forms.TextInput(attrs={"type": "color"}),
            "accent_colour": forms.TextInput(attrs={"type": "color"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["logo"].help_text = f"PNG, JPEG or WebP, up to {filesizeformat(settings.LOGO_MAX_BYTES)}."
        self._previous_logo = self.instance.logo.name if self.instance.logo else ""

    def clean_primary_colour(self):
        return self.cleaned_data["primary_colour"].lower()

    def clean_accent_colour(self):
        return self.cleaned_data["accent_colour"].lower()

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if not isinstance(logo, UploadedFile):
            return logo  # unchanged, or False when "clear" was ticked
        logo.seek(0)
        head = logo.read(512).lstrip().lower()
        logo.seek(0)
        if (logo.name or "").lower().endswith((".svg", ".svgz")) or head.startswith((b"<svg", b"<?xml", b"<!doctype svg")):
            raise ValidationError("SVG logos are not supported yet: please upload a PNG, JPEG or WebP image.")
        if logo.size > settings.LOGO_MAX_BYTES:
            raise ValidationError(f"This logo is {filesizeformat(logo.size)}; the limit is "
                                  f"{filesizeformat(settings.LOGO_MAX_BYTES)}.")
        try:
            with Image.open(logo) as image:
                image_format, (width, height) = image.format, image.size
                image.verify()
        except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
            raise ValidationError("That file is not a PNG, JPEG or WebP image we can read.") from None
        if image_format not in self.LOGO_FORMATS:
            raise ValidationError(f"Upload a PNG, JPEG or WebP image (this one is {image_format}).")
        if width > self.LOGO_MAX_SIDE or height > self.LOGO_MAX_SIDE:
            raise ValidationError(f"The logo is {width}×{height} pixels; keep it within "
                                  f"{self.LOGO_MAX_SIDE}×{self.LOGO_MAX_SIDE}.")
        logo.seek(0)
        # Never keep the uploaded name: the stored name and extension come from what Pillow saw.
        logo.name = f"{uuid.uuid4().hex}.{self.LOGO_FORMATS[image_format]}"
        return logo

    def save(self, commit=True):
        workspace = super().save(commit=commit)
        if commit and self._previous_logo and self._previous_logo != (workspace.logo.name or ""):
            workspace.logo.storage.delete(self._previous_logo)
        return workspace


class MemberInviteForm(forms.Form):
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=[(Invitation.CONSULTANT, "Consultant"), (Invitation.OWNER, "Owner")],
                             initial=Invitation.CONSULTANT)

    def __init__(self, workspace, *args, **kwargs):
        self.workspace = workspace
        super().__init__(*args, **kwargs)

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if self.workspace.memberships.filter(user__email__iexact=email).exists():
            raise ValidationError("That person is already a member of this workspace.")
        return email

    def save(self, invited_by):
        """Issue the invitation; returns (invitation, token) — the token goes only into the email."""
        return Invitation.reissue(workspace=self.workspace, email=self.cleaned_data["email"],
                                  role=self.cleaned_data["role"], invited_by=invited_by)


class MemberRemovalForm(forms.Form):
    membership = forms.ModelChoiceField(queryset=Membership.objects.none(), widget=forms.HiddenInput)

    def __init__(self, workspace, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = workspace.memberships.select_related("user")

    def clean_membership(self):
        membership = self.cleaned_data["membership"]
        if membership.is_last_owner:
            raise ValidationError("A workspace needs at least one owner: make someone else owner first.")
        return membership

    def save(self):
        membership = self.cleaned_data["membership"]
        try:
            membership.remove()
        except LastOwnerError as exc:
            self.add_error("membership", str(exc))
            return None
        return membership


class FounderRemovalForm(forms.Form):
    access = forms.ModelChoiceField(queryset=ClientAccess.objects.none(), widget=forms.HiddenInput)

    def __init__(self, client, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["access"].queryset = ClientAccess.objects.filter(client=client).select_related("user")


class FounderInviteForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Founder's email")

    def __init__(self, client, *args, **kwargs):
        self.client = client
        super().__init__(*args, **kwargs)

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if ClientAccess.objects.filter(client=self.client, user__email__iexact=email).exists():
            raise ValidationError("That person can already see this client.")
        if self.client.workspace.memberships.filter(user__email__iexact=email).exists():
            raise ValidationError("That person is a member of this workspace and already sees every client.")
        return email

    def save(self, invited_by):
        return Invitation.reissue(workspace=self.client.workspace, client=self.client,
                                  email=self.cleaned_data["email"], role=Invitation.FOUNDER, invited_by=invited_by)


class AcceptInvitationForm(forms.Form):
    """A new person accepting an invitation: the email is the invited one, they choose name and password."""

    name = forms.CharField(max_length=150, label="Your name", widget=forms.TextInput(attrs={"autocomplete": "name"}))
    password = forms.CharField(strip=False, max_length=128, widget=PASSWORD_WIDGET,
                               help_text=password_validation.password_validators_help_text_html())

    def __init__(self, invitation, *args, **kwargs):
        self.invitation = invitation
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if User.email_is_taken(self.invitation.email):
            raise ValidationError("An account with this email exists now: log in to accept the invitation.")
        candidate = User(email=self.invitation.email, name=data.get("name", ""))
        _validate_new_password(self, "password", data.get("password"), candidate)
        return data

    def create_user(self):
        return User.objects.create_user(self.invitation.email, self.cleaned_data["password"],
                                        name=self.cleaned_data["name"])


class TwoFactorCodeForm(forms.Form):
    """A six-digit code from the authenticator app, or one of the recovery codes (each works once).

    With `device`, only that device is tried (confirming an enrolment); otherwise every confirmed device of the user.
    """

    code = forms.CharField(max_length=20, label="Code",
                           help_text="The 6-digit code from your authenticator app, or a recovery code.",
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text",
                                                         "autofocus": True, "maxlength": 20}))

    def __init__(self, user, data=None, device=None, locked=False):
        super().__init__(data)
        self.user, self.only_device, self.device, self.locked = user, device, None, locked

    def clean_code(self):
        code = "".join(ch for ch in self.cleaned_data["code"] if ch not in " -").lower()
        if not (code.isascii() and (code.isdigit() and len(code) == 6 or code.isalnum() and len(code) == 8)):
            raise ValidationError("Enter the 6-digit code, or an 8-character recovery code.")
        return code

    def clean(self):
        code = self.cleaned_data.get("code")
        if self.locked:  # throttled: refused before the code is even looked at
            raise ValidationError(throttle.locked_message(), code="locked")
        if code:
            if self.only_device is not None:
                self.device = self.only_device if self.only_device.verify_token(code) else None
            else:
                self.device = two_factor.verify(self.user, code)
            if self.device is None:
                self.add_error("code", "That code is not valid. Codes change every 30 seconds: try the current one.")
        return self.cleaned_data
