"""Handover packs: versioned, branded PDFs of a sprint's outcome. Immutable once issued (SPEC.md §2 reports)."""

import contextlib
import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from apps.core.models import PublicModel


class HandoverPackQuerySet(models.QuerySet):
    def issued(self):
        return self.filter(state=HandoverPack.ISSUED).exclude(pdf="")


class HandoverPack(PublicModel):
    """One version of a sprint's handover pack.

    A draft is the consultant's working copy: regenerating re-renders it. Issuing freezes it: the worker renders
    the final PDF once (with the issue stamp and any override on the cover) and nothing rewrites it afterwards;
    the next generate starts a new version.
    """

    DRAFT, ISSUED = "draft", "issued"
    STATES = [(DRAFT, "Draft"), (ISSUED, "Issued")]

    sprint = models.ForeignKey("sprints.Sprint", on_delete=models.CASCADE, related_name="handover_packs")
    version = models.PositiveIntegerField()
    state = models.CharField(max_length=6, choices=STATES, default=DRAFT)
    pdf = models.FileField(upload_to="handover/", blank=True, max_length=300)
    sha256 = models.CharField(max_length=64, blank=True)
    pages = models.PositiveIntegerField(default=0)
    generated_at = models.DateTimeField(null=True, blank=True)
    # The state the stored PDF was rendered in (set under the row lock): an issued pack is ready only with the
    # PDF rendered as issued, whatever the clocks of the web and worker machines say.
    pdf_state = models.CharField(max_length=6, choices=STATES, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    gaps_at_issue = models.JSONField(default=list, blank=True, help_text="What handover.complete found missing.")
    override_reason = models.TextField(blank=True, max_length=2000)
    failure = models.CharField(max_length=500, blank=True)
    # Times the stalled-pack sweep queued this render again (a lost task, a worker killed mid-PDF); reset on request.
    render_attempts = models.PositiveSmallIntegerField(default=0)

    objects = HandoverPackQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["sprint", "version"], name="one_pack_per_sprint_version")]

    def __str__(self):
        return f"Handover pack v{self.version} of {self.sprint}"

    @classmethod
    def attach_issued(cls, sprints):
        """Give each sprint `.issued_packs` (ready issued packs, newest first) with one query for all of them."""
        sprints = list(sprints)
        by_sprint = {sprint.pk: [] for sprint in sprints}
        for pack in cls.objects.issued().filter(sprint__in=by_sprint.keys()):
            if pack.is_ready:
                by_sprint[pack.sprint_id].append(pack)
        for sprint in sprints:
            sprint.issued_packs = by_sprint[sprint.pk]
        return sprints

    @property
    def label(self):
        return f"v{self.version}"

    @property
    def is_issued(self):
        return self.state == self.ISSUED

    @property
    def is_ready(self):
        """The PDF exists and matches the row's state (an issued pack waiting for its final render is not)."""
        return bool(self.pdf) and (not self.is_issued or self.pdf_state == self.ISSUED)

    @property
    def is_current(self):
        """The stored PDF is what the last request asked for (a re-queued or redelivered render has nothing to do)."""
        if self.is_issued:
            return self.is_ready
        return bool(self.pdf) and self.generated_at is not None and self.generated_at >= self.requested_at

    @property
    def download_name(self):
        from django.utils.text import slugify

        return f"{slugify(self.sprint.client.name) or 'client'}-handover-{self.label}.pdf"

    @classmethod
    def request_for(cls, sprint, actor):
        """The pack the next render writes: the current draft, or a new version after the last issued one."""
        from apps.sprints.models import Sprint

        with transaction.atomic():
            # Lock the sprint row so two clicks cannot both allocate the same version number.
            Sprint.objects.select_for_update().filter(pk=sprint.pk).first()
            latest = cls.objects.filter(sprint=sprint).order_by("-version").first()
            if latest and latest.state == cls.DRAFT:
                latest.requested_at, latest.requested_by, latest.failure = timezone.now(), actor, ""
                latest.render_attempts = 0
                latest.save(update_fields=["requested_at", "requested_by", "failure", "render_attempts"])
                return latest
            return cls.objects.create(sprint=sprint, version=(latest.version + 1) if latest else 1,
                                      requested_by=actor)

    def issue(self, actor, gaps, override_reason=""):
        """Freeze this draft. Gaps need an override reason; two concurrent issues: only one wins (returns False)."""
        override_reason = (override_reason or "").strip()
        if gaps and not override_reason:
            raise ValidationError("The pack has gaps: fill them, or give the reason you issue it anyway.")
        now = timezone.now()
        claimed = HandoverPack.objects.filter(pk=self.pk, state=self.DRAFT).update(
            state=self.ISSUED, issued_at=now, issued_by=actor, override_reason=override_reason if gaps else "",
            gaps_at_issue=list(gaps))
        if not claimed:
            return False
        self.refresh_from_db()
        note = f" with {len(gaps)} gap(s) (override: {override_reason})" if gaps else ""
        self.sprint.log(actor, f"issued handover pack {self.label}{note}")
        return True

    def store_pdf(self, path, pages, state, as_of=None):
        """Attach a fully written PDF (a temporary file) to this row.

        The file is saved under a fresh name and the row points at it only afterwards, so a reader never sees a
        half-written file; the previous draft file is removed once nothing points at it.
        """
        from django.core.files import File

        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 16), b""):
                digest.update(chunk)
        previous = self.pdf.name if self.pdf else ""
        name = f"{self.sprint_id}/{self.label}-{timezone.now():%Y%m%d%H%M%S%f}.pdf"
        target = self.pdf.field.generate_filename(self, name)
        storage = self.pdf.storage
        try:
            with open(path, "rb") as fh:
                self.pdf.save(name, File(fh), save=False)
        except BaseException:
            # A full disk (ENOSPC) or a kill leaves a partial file under the new name: nothing points at it, and
            # it must not stay behind either.
            self.pdf.name = previous
            with contextlib.suppress(Exception):
                if storage.exists(target):
                    storage.delete(target)
            raise
        # generated_at: when the render read the data (its start), so a "Regenerate" clicked while it ran is
        # still due afterwards (is_current compares it with requested_at).
        self.sha256, self.pages, self.failure = digest.hexdigest(), pages, ""
        self.generated_at = as_of or timezone.now()
        self.pdf_state = state
        self.save(update_fields=["pdf", "sha256", "pages", "generated_at", "failure", "pdf_state"])
        if previous and previous != self.pdf.name:
            # Only once the row pointing at the new file is committed: a rollback must find its old file, and a
            # download reading the committed row meanwhile must not find it gone.
            transaction.on_commit(lambda: storage.delete(previous), robust=True)
