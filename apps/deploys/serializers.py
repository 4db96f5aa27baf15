"""Request and response shapes of the deploy gate API (they are also the OpenAPI schema)."""

from rest_framework import serializers

from .gate import MAX_WAIT_S
from .models import ENVIRONMENTS


class WaitField(serializers.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(required=False, min_value=0, max_value=MAX_WAIT_S,
                         help_text=f"Seconds to wait for the verdict (0–{MAX_WAIT_S}); 0 or absent: poll instead.",
                         **kwargs)


class DeployRequest(serializers.Serializer):
    environment = serializers.ChoiceField(
        choices=ENVIRONMENTS, help_text="Must be the token's. A staging deploy is smoke-tested on the client's staging URL "
                                        "(400 when the client has none), a production deploy on its domain.")
    version = serializers.CharField(max_length=120, help_text="The version or commit that was deployed.")
    changelog_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    wait = WaitField()


class RollbackRequest(serializers.Serializer):
    version = serializers.CharField(max_length=120, help_text="The version rolled back to.")
    performed_by = serializers.CharField(max_length=120, required=False, allow_blank=True,
                                         help_text="Who rolled back (a person or the CI job).")
    wait = WaitField()


class FailingCheck(serializers.Serializer):
    check = serializers.CharField()
    target = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField()


class DeployAnswer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=["deploy", "rollback"])
    environment = serializers.CharField()
    version = serializers.CharField()
    changelog_url = serializers.CharField(allow_blank=True)
    rollback_of = serializers.UUIDField(allow_null=True)
    performed_by = serializers.CharField(allow_blank=True)
    verdict = serializers.ChoiceField(choices=["pending", "pass", "fail"])
    passed = serializers.BooleanField(allow_null=True, help_text="null while the smoke test runs")
    failing_checks = FailingCheck(many=True)
    findings_url = serializers.URLField(allow_null=True)
    poll_url = serializers.URLField()
    created_at = serializers.DateTimeField()
    concluded_at = serializers.DateTimeField(allow_null=True)


class Blocker(serializers.Serializer):
    check = serializers.CharField()
    target = serializers.CharField()
    reason = serializers.CharField()


class ReadinessAnswer(serializers.Serializer):
    client = serializers.UUIDField()
    scan = serializers.UUIDField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    score = serializers.IntegerField(allow_null=True)
    grade = serializers.CharField(allow_blank=True)
    decision = serializers.CharField(allow_blank=True, help_text="go | no-go; empty before the first scan")
    go = serializers.BooleanField()
    blockers = Blocker(many=True)
    findings_url = serializers.URLField(allow_null=True)


class ErrorAnswer(serializers.Serializer):
    detail = serializers.CharField()
