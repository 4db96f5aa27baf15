import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

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

    @property
    def display_name(self):
        return self.name or self.email


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
