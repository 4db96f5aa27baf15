import pytest
from django.core.cache import cache

from apps.clients.models import Endpoint, Hostname
from apps.deploys.models import DeployToken
from tests.worker import WorkerProcess

BOT = "https://bot.lrtest/stream/{mode}/v1/chat/completions"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()  # the per-token throttle counts live in the (local memory) cache
    yield
    cache.clear()


@pytest.fixture
def world_state(testworld, settings, tmp_path):
    path = tmp_path / "testworld.json"
    testworld.write_state(path)
    settings.TESTWORLD_STATE_FILE = path
    return path


def make_site(client, domain, *, hosts=("www", "app"), homepage=None, login=None, health=None, chat_mode="good"):
    """Point a cast client at a test-world site: hostnames and declared endpoints."""
    client.domain, client.network_profile = domain, "testworld"
    client.save(update_fields=["domain", "network_profile"])
    client.hostnames.all().delete()
    client.endpoints.all().delete()
    Hostname.objects.bulk_create(Hostname(client=client, name=f"{h}.{domain}", role=h) for h in hosts)
    endpoints = [("homepage", homepage or f"https://{domain}/"), ("login", login), ("health", health),
                 ("chat", BOT.format(mode=chat_mode) if chat_mode else None)]
    Endpoint.objects.bulk_create(Endpoint(client=client, kind=k, url=u) for k, u in endpoints if u)
    return client


@pytest.fixture
def healthy(cast, world_state):
    """Orbit (cast.orbit, with an active sprint) served by the demo's Orbit Tutor site and the good chatbot."""
    return make_site(cast.orbit, "orbittutor.lrtest", login="https://app.orbittutor.lrtest/login",
                     health="https://app.orbittutor.lrtest/health")


@pytest.fixture
def orbit_token(cast):
    token, raw = DeployToken.issue(client=cast.orbit, environment="production", label="GitHub Actions",
                                   created_by=cast.alice)
    return raw


@pytest.fixture
def nova_token(cast):
    return DeployToken.issue(client=cast.nova, environment="production", created_by=cast.alice)[1]


@pytest.fixture
def api(client):
    """POST/GET JSON with a bearer token."""

    class Api:
        def post(self, url, data, token=None, **headers):
            if token:
                headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
            return client.post(url, data, content_type="application/json", **headers)

        def get(self, url, token=None, **headers):
            if token:
                headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
            return client.get(url, **headers)

    return Api()


@pytest.fixture
def scan_worker(transactional_db, world_state):
    """A real Celery worker on the scans queue: the smoke scans run there, as in production."""
    process = WorkerProcess(queues="scans", extra_env={"LAUNCHREADY_TESTWORLD_STATE": str(world_state)}).start()
    yield process
    process.stop()
