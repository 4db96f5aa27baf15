"""The deploy gate API: thin DRF views over gate.py.

Scoping: a deploy token reaches its own client's rows only (DeployToken.get_deploy / get_client, 404 otherwise);
a logged-in person goes through apps.tenants.access like every other view. Objects are resolved in `initial()`,
before the method is dispatched, so an outsider gets 404 whatever the method (never 405 or 403 first).
"""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.tenants.access import get_client_child_for, get_client_for

from . import gate
from .authentication import DeployTokenAuthentication, DeployTokenRateThrottle
from .models import Deploy, DeployToken
from .serializers import DeployAnswer, DeployRequest, ErrorAnswer, ReadinessAnswer, RollbackRequest

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Any string up to 120 characters, one per deploy (e.g. run and job ids): a retried call with "
                "the same key records nothing new; the key sent again for a different deploy is refused (400).")
WAIT_QUERY = OpenApiParameter(
    "wait", int, OpenApiParameter.QUERY, required=False,
    description=f"Same as the body field `wait` (0–{gate.MAX_WAIT_S} s); the body wins when both are given.")
ERRORS = {400: OpenApiResponse(description="Field errors: {field: [messages]}"),
          401: OpenApiResponse(ErrorAnswer, description="Missing, unknown or revoked token"),
          404: OpenApiResponse(ErrorAnswer, description="No such object for this token"),
          429: OpenApiResponse(ErrorAnswer, description="Rate limit of the token reached")}


def deploy_answer(deploy: Deploy) -> dict:
    poll = gate.absolute(reverse("deploys_api:deploy", kwargs={"deploy_id": deploy.pk}))
    return {
        "id": deploy.pk, "kind": deploy.kind, "environment": deploy.environment, "version": deploy.version,
        "changelog_url": deploy.changelog_url, "rollback_of": deploy.rollback_of_id,
        "performed_by": deploy.performed_by, "verdict": deploy.verdict,
        "passed": None if deploy.verdict == Deploy.PENDING else deploy.verdict == Deploy.PASS,
        "failing_checks": deploy.failures, "findings_url": gate.findings_url(deploy), "poll_url": poll,
        "created_at": deploy.created_at, "concluded_at": deploy.concluded_at,
    }


def body_with_wait(request):
    """The request body, with `?wait=N` from the query string when the body has no `wait`."""
    data = request.data
    if isinstance(data, dict) and "wait" not in data and "wait" in request.query_params:
        data = {**(data.dict() if hasattr(data, "dict") else data), "wait": request.query_params["wait"]}
    return data


def idempotency_key(request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 120:
        raise ValidationError({"Idempotency-Key": ["Use at most 120 characters."]})
    return key


class GateView(APIView):
    authentication_classes = [DeployTokenAuthentication, SessionAuthentication]
    throttle_classes = [DeployTokenRateThrottle]
    renderer_classes = [JSONRenderer]  # JSON only: the browsable reference is /api/docs/

    @property
    def token(self) -> DeployToken | None:
        return self.request.auth if isinstance(self.request.auth, DeployToken) else None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.resolve(request, **kwargs)

    def resolve(self, request, **kwargs):
        pass


class DeployCollection(GateView):
    @extend_schema(operation_id="report_deploy", request=DeployRequest, parameters=[IDEMPOTENCY_HEADER, WAIT_QUERY],
                   responses={200: DeployAnswer, 201: DeployAnswer, **ERRORS},
                   summary="Report a deploy and run its smoke test",
                   description="Records the deploy on the token's client (and its active sprint) and runs the "
                               "smoke test. With `wait` the answer carries the verdict; otherwise poll `poll_url`.")
    def post(self, request):
        if self.token is None:
            raise NotAuthenticated("Send the deploy token: Authorization: Bearer lrdt_…")
        data = DeployRequest(data=body_with_wait(request))
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        if fields["environment"] != self.token.environment:
            raise ValidationError({"environment": [f"This token reports {self.token.environment} deploys."]})
        try:
            deploy, created = gate.record(
                client=self.token.client, token=self.token, environment=fields["environment"],
                version=fields["version"], changelog_url=fields.get("changelog_url", ""),
                idempotency_key=idempotency_key(request))
            if gate.needs_smoke(deploy, created):
                deploy = gate.start_smoke(deploy, wait=fields.get("wait"))
        except gate.IdempotencyKeyReused as exc:
            raise ValidationError({"Idempotency-Key": [str(exc)]}) from None
        except gate.NoStagingSite as exc:
            raise ValidationError({"environment": [str(exc)]}) from None
        return Response(deploy_answer(deploy), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class DeployDetail(GateView):
    def resolve(self, request, deploy_id=None, **kwargs):
        if self.token is not None:
            self.deploy = self.token.get_deploy(deploy_id)
        else:
            self.deploy, self.role = get_client_child_for(request, Deploy, deploy_id)

    @extend_schema(operation_id="get_deploy", responses={200: DeployAnswer, **ERRORS},
                   summary="A deploy and its smoke-test verdict (poll until `verdict` is not pending)")
    def get(self, request, deploy_id):
        if self.deploy.verdict == Deploy.PENDING:
            gate.conclude(self.deploy)  # the scan may have finished without the signal reaching us
            self.deploy.refresh_from_db()
        return Response(deploy_answer(self.deploy))


class DeployRollback(GateView):
    def resolve(self, request, deploy_id=None, **kwargs):
        if self.token is not None:
            self.deploy = self.token.get_deploy(deploy_id)
        else:  # a consultant may record a rollback by hand; founders and outsiders cannot
            self.deploy, _role = get_client_child_for(request, Deploy, deploy_id, consultant=True)

    @extend_schema(operation_id="report_rollback", request=RollbackRequest, parameters=[IDEMPOTENCY_HEADER, WAIT_QUERY],
                   responses={200: DeployAnswer, 201: DeployAnswer, **ERRORS},
                   summary="Report a rollback of this deploy and smoke-test again")
    def post(self, request, deploy_id):
        data = RollbackRequest(data=body_with_wait(request))
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        if self.token is not None and self.token.environment != self.deploy.environment:
            raise ValidationError({"environment": [f"This token reports {self.token.environment} deploys; "
                                                   f"this deploy went to {self.deploy.environment}."]})
        user = request.user if request.user.is_authenticated else None
        by = fields.get("performed_by") or (user.email if user else (self.token.label or "CI"))
        try:
            rollback, created = gate.record(
                client=self.deploy.client, token=self.token, user=user, environment=self.deploy.environment,
                version=fields["version"], kind=Deploy.ROLLBACK, rollback_of=self.deploy, performed_by=by,
                idempotency_key=idempotency_key(request))
            if gate.needs_smoke(rollback, created):
                rollback = gate.start_smoke(rollback, wait=fields.get("wait"))
        except gate.IdempotencyKeyReused as exc:
            raise ValidationError({"Idempotency-Key": [str(exc)]}) from None
        except gate.NoStagingSite as exc:
            raise ValidationError({"environment": [str(exc)]}) from None
        return Response(deploy_answer(rollback), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ClientReadiness(GateView):
    def resolve(self, request, client_id=None, **kwargs):
        if self.token is not None:
            self.client = self.token.get_client(client_id)
        else:
            self.client, _role = get_client_for(request, client_id)

    @extend_schema(operation_id="get_readiness", responses={200: ReadinessAnswer, **ERRORS},
                   summary="Readiness of the client from its latest finished scan (fail CI while NO-GO)")
    def get(self, request, client_id):
        return Response(gate.readiness(self.client))


