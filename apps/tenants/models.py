import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.core.models import PublicModel

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #1d4ed8.")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: consultant, founder or operator. Logs in with an email address."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()
    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    def __str__(self):
        return self.name or self.email

    # Sign-in looks addresses up in lower case (every form lowercases what it is given), so every path that stores
    # one — the Django admin's forms included — stores it lower case: clean() before the uniqueness check, save()
    # for code that never cleans.
    def clean(self):
        super().clean()
        self.email = (self.email or "").lower()

    def save(self, *args, **kwargs):
        self.email = (self.email or "").lower()
        super().save(*args, **kwargs)

    @property
    def display_name(self):
        return self.name or self.email

    # --- email change: a signed link sent to the new address ------------------------------------------------
    # The token names the address it changes *from*: once the change is made, the link no longer matches and
    # cannot be replayed; the signature's timestamp makes it expire.
    EMAIL_CHANGE_SALT = "tenants.email-change"
    EMAIL_CHANGE_MAX_AGE = timedelta(days=1)

    def email_change_token(self, new_email: str) -> str:
        return signing.dumps({"user": self.pk, "from": self.email, "to": new_email.lower()},
                             salt=self.EMAIL_CHANGE_SALT)

    def email_from_change_token(self, token: str):
        """The new address this token asks for, or None if it is forged, expired, used or someone else's."""
        if not token or len(token) > 500:
            return None
        try:
            payload = signing.loads(token, salt=self.EMAIL_CHANGE_SALT,
                                    max_age=self.EMAIL_CHANGE_MAX_AGE)
        except signing.BadSignature:  # also SignatureExpired
            return None
        if not isinstance(payload, dict) or payload.get("user") != self.pk or payload.get("from") != self.email:
            return None
        return payload.get("to") or None

    def change_email(self, new_email: str):
        """Switch to new_email; ValidationError when another account took it in the meantime."""
        new_email = new_email.lower()
        if User.objects.filter(email__iexact=new_email).exclude(pk=self.pk).exists():
            raise ValidationError("Another account uses that email address now.")
        self.email = new_email
        try:
            with transaction.atomic():
                self.save(update_fields=["email"])
        except IntegrityError:
            raise ValidationError("Another account uses that email address now.") from None

    @classmethod
    def email_is_taken(cls, email: str) -> bool:
        return cls.objects.filter(email__iexact=email).exists()


class Workspace(PublicModel):
    """A consultancy: the tenant. Everything of a client belongs to exactly one workspace."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    logo = models.FileField(upload_to="logos/", blank=True)
    primary_colour = models.CharField(max_length=7, default="#1d4ed8", validators=[hex_colour])
    accent_colour = models.CharField(max_length=7, default="#f59e0b", validators=[hex_colour])
    footer_text = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @classmethod
    def unique_slug(cls, name: str) -> str:
        base = slugify(name)[:50].strip("-") or "workspace"
        slug, n = base, 1
        while cls.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        return slug

    @classmethod
    def create_with_owner(cls, *, name: str, owner) -> "Workspace":
        """A new workspace with a unique slug derived from its name, owned by owner."""
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    workspace = cls.objects.create(name=name, slug=cls.unique_slug(name))
                    Membership.objects.create(user=owner, workspace=workspace, role=Membership.OWNER)
                    return workspace
            except IntegrityError:
                # Another sign-up took the same slug between our check and our insert: pick again.
                continue
        raise IntegrityError("Could not find a free slug for this workspace name.")

    def pending_invitations(self):
        return self.invitations.filter(accepted_at__isnull=True, expires_at__gt=timezone.now()).select_related(
            "client", "invited_by")


class LastOwnerError(Exception):
    """A workspace must keep at least one owner."""


class Membership(models.Model):
    OWNER = "owner"
    CONSULTANT = "consultant"
    ROLES = [(OWNER, "Owner"), (CONSULTANT, "Consultant")]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=ROLES, default=CONSULTANT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "workspace"], name="one_membership_per_workspace")]

    def __str__(self):
        return f"{self.user} · {self.workspace} ({self.role})"

    @property
    def is_last_owner(self) -> bool:
        return self.role == self.OWNER and not self.workspace.memberships.filter(role=self.OWNER).exclude(
            pk=self.pk).exists()

    def remove(self):
        """Delete this membership unless it is the workspace's last owner (LastOwnerError)."""
        with transaction.atomic():
            # Lock the owner rows so two owners removing each other at once cannot leave none.
            owners = list(Membership.objects.select_for_update().filter(workspace_id=self.workspace_id,
                                                                        role=self.OWNER).values_list("pk", flat=True))
            if self.role == self.OWNER and owners == [self.pk]:
                raise LastOwnerError("A workspace needs at least one owner.")
            Membership.objects.filter(pk=self.pk).delete()
            # Their pending invitations go too: a removed consultant could otherwise invite themselves (as a
            # founder of every client) before leaving and accept later.
            Invitation.objects.filter(workspace_id=self.workspace_id, invited_by_id=self.user_id,
                                      accepted_at__isnull=True).delete()


class ClientAccess(models.Model):
    """A founder's read access to one client (and write access to its founder-owned inventories)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client_accesses")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="accesses")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "client"], name="one_access_per_client")]

    def __str__(self):
        return f"{self.user} → {self.client}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(PublicModel):
    """An emailed link that adds a consultant to a workspace or a founder to a client.

    Only the token's hash is stored; the link works once and expires.
    """

    CONSULTANT = "consultant"
    OWNER = "owner"
    FOUNDER = "founder"
    ROLES = [(OWNER, "Owner"), (CONSULTANT, "Consultant"), (FOUNDER, "Founder")]

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    client = models.ForeignKey("clients.Client", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=ROLES)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.role} invitation for {self.email}"

    @classmethod
    def issue(cls, *, workspace, email, role, invited_by, client=None):
        """Create an invitation and return (invitation, token). The token is shown only in the email."""
        token = secrets.token_urlsafe(32)
        invitation = cls.objects.create(
            workspace=workspace,
            client=client,
            email=email.lower(),
            role=role,
            invited_by=invited_by,
            token_hash=_token_hash(token),
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
        )
        return invitation, token

    @classmethod
    def reissue(cls, *, workspace, email, role, invited_by, client=None):
        """Like issue(), but first withdraws pending invitations for the same person and target,
        so only the newest emailed link works."""
        cls.objects.filter(workspace=workspace, client=client, email=email.lower(), accepted_at__isnull=True).delete()
        return cls.issue(workspace=workspace, email=email, role=role, invited_by=invited_by, client=client)

    @classmethod
    def find(cls, token: str):
        """The invitation for this token whatever its state (to explain why a link no longer works), or None."""
        if not token or len(token) > 100:
            return None
        return cls.objects.filter(token_hash=_token_hash(token)).select_related("workspace", "client").first()

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_for_founder(self) -> bool:
        return self.role == self.FOUNDER

    @classmethod
    def find_usable(cls, token: str):
        """The invitation for this token if it is unexpired and unused, else None."""
        if not token or len(token) > 100:
            return None
        return cls.objects.filter(
            token_hash=_token_hash(token), accepted_at__isnull=True, expires_at__gt=timezone.now()
        ).select_related("workspace", "client").first()

    def accept(self, user) -> bool:
        """Claim the invitation for user (a conditional UPDATE: exactly one acceptance ever wins)."""
        claimed = Invitation.objects.filter(
            pk=self.pk, accepted_at__isnull=True, expires_at__gt=timezone.now()
        ).update(accepted_at=timezone.now(), accepted_by=user)
        if not claimed:
            return False
        if self.role == self.FOUNDER:
            ClientAccess.objects.get_or_create(user=user, client=self.client)
        else:
            Membership.objects.get_or_create(user=user, workspace=self.workspace, defaults={"role": self.role})
        return True
