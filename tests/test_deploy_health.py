"""`/health`: anyone learns ok / not ok (overall, database, Hummingbot); the per-server details are for staff and
holders of the view-server permission only (issue 15); one upstream check serves every probe for
HEALTH_CACHE_SECONDS."""
import pytest
import responses
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
DEAD_URL_WITH_PASSWORD = "http://hb-user:hb-url-secret@127.0.0.1:9"  # discard port: nothing listens
SUMMARY_OK = {"ok": True, "database": {"ok": True}, "hummingbot": {"ok": True}}


def test_anonymous_probe_gets_only_the_ok_flags_and_200(hummingbot):
    response = APIClient().get("/health")
    assert (response.status_code, response.json()) == (200, SUMMARY_OK)


def test_anonymous_probe_gets_only_the_ok_flags_and_503_never_the_url(settings, db):
    settings.HUMMINGBOT_API_URL = DEAD_URL_WITH_PASSWORD
    response = APIClient().get("/health")
    assert (response.status_code, response.json()) == (
        503, {"ok": False, "database": {"ok": True}, "hummingbot": {"ok": False}})
    assert b"hb-url-secret" not in response.content and b"127.0.0.1" not in response.content


def test_staff_get_the_details(hummingbot, admin_client):
    body = admin_client.get("/health").json()
    assert body["ok"] is True and body["database"] == {"ok": True} and body["hummingbot"]["ok"] is True


def token_client(user):
    return APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")


def test_a_token_without_the_permission_gets_only_ok_not_the_servers(settings, django_user_model):
    settings.HUMMINGBOT_API_URL = DEAD_URL_WITH_PASSWORD
    frontend = django_user_model.objects.create_user("frontend")
    response = token_client(frontend).get("/health")
    assert (response.status_code, response.json()) == (
        503, {"ok": False, "database": {"ok": True}, "hummingbot": {"ok": False}})


def test_a_token_with_the_view_server_permission_gets_the_details(settings, django_user_model):
    from django.contrib.auth.models import Permission

    settings.HUMMINGBOT_API_URL = "http://127.0.0.1:9"
    monitor = django_user_model.objects.create_user("monitor")
    monitor.user_permissions.add(Permission.objects.get(codename="view_hummingbotserver"))
    body = token_client(monitor).get("/health").json()
    assert body["hummingbot"]["servers"]["default"]["code"] == "hummingbot_unreachable"


def test_a_staff_token_gets_the_details_of_a_failure(settings, operator):
    settings.HUMMINGBOT_API_URL = "http://127.0.0.1:9"
    response = token_client(operator).get("/health")
    assert response.status_code == 503
    assert response.json()["hummingbot"]["code"] == "hummingbot_unreachable"


def test_probes_within_the_cache_window_share_one_upstream_check(settings, db):
    settings.HEALTH_CACHE_SECONDS = 600  # far longer than the test: no clock involved
    with responses.RequestsMock() as upstream:
        upstream.add("GET", f"{settings.HUMMINGBOT_API_URL}/", json={"name": "hummingbot-api", "version": "1.0.1"})
        upstream.add("GET", f"{settings.HUMMINGBOT_API_URL}/accounts/", json=["master_account"])
        statuses = [APIClient().get("/health").status_code for _ in range(5)]
        assert statuses == [200] * 5
        assert len(upstream.calls) == 2  # one check: GET / and GET /accounts/


@pytest.mark.parametrize("caller", ["anonymous", "staff"])
def test_a_cache_that_is_down_still_gets_an_answer_not_a_500(hummingbot, monkeypatch, admin_user, caller):
    """The cache is a database table by default: when the database is down, /health must still say so."""
    from django.core.cache.backends.locmem import LocMemCache
    from django.db import OperationalError

    def cache_down(*args, **kwargs):
        raise OperationalError("the cache table is unreachable")

    for method in ("get", "set", "add", "get_or_set"):
        monkeypatch.setattr(LocMemCache, method, cache_down)
    client = APIClient()
    if caller == "staff":
        client.force_authenticate(admin_user)
    response = client.get("/health")
    assert response.status_code == 200 and response.json()["ok"] is True
