"""docker-compose.yml, .env.example, the Dockerfile and Railway's files, checked without a Docker engine:
every service, pinned image, port, dependency and variable against what bridge/settings.py reads."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bridge.test_settings import settings_variables

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
BRIDGE_PROCESSES = ["web", "worker", "release"]
# Read by the image's CMD (gunicorn), not by Django.
PROCESS_VARIABLES = {"PORT", "WEB_CONCURRENCY"}
REQUIRED = {"SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS",
            "HUMMINGBOT_API_URL", "HUMMINGBOT_API_USERNAME", "HUMMINGBOT_API_PASSWORD"}
RELEASE = "python manage.py migrate --no-input && python manage.py setup_schedules"
REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::?[-?][^}]*)?\}")


def env_example() -> dict:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_settings_variables_are_found():
    assert {"SECRET_KEY", "DATABASE_URL", "HUMMINGBOT_API_PASSWORD", "BOTS_SYNC_SECONDS"} <= settings_variables()


@pytest.mark.parametrize("process", BRIDGE_PROCESSES)
def test_bridge_processes_set_only_known_settings_and_every_required_one(process):
    environment = SERVICES[process]["environment"]
    assert set(environment) - settings_variables() - PROCESS_VARIABLES == set()
    assert REQUIRED <= set(environment)


def test_web_worker_and_release_run_one_image():
    assert len({SERVICES[p]["image"] for p in BRIDGE_PROCESSES}) == 1
    assert SERVICES["worker"]["command"] == ["python", "manage.py", "qcluster"]
    assert SERVICES["worker"]["healthcheck"] == {"disable": True}
    release = " ".join(SERVICES["release"]["command"])
    assert "migrate --no-input" in release and "setup_schedules" in release
    for process in ("web", "worker"):
        assert SERVICES[process]["depends_on"]["release"] == {"condition": "service_completed_successfully"}


def test_every_image_is_pinned_to_a_tag():
    for name, service in SERVICES.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest" and "/" not in tag, f"{name}: {image}"


def test_hummingbot_api_is_the_image_the_contract_was_captured_from_with_what_it_needs():
    docs = (ROOT / "docs" / "hummingbot-api.md").read_text()
    pinned = re.search(r"pin\s+`(hummingbot/hummingbot-api:[0-9.]+)`", docs)
    api = SERVICES["hummingbot-api"]
    assert api["image"] == pinned.group(1)
    assert "/var/run/docker.sock:/var/run/docker.sock" in api["volumes"]
    assert api["environment"]["BROKER_HOST"] in SERVICES
    database_host = re.search(r"@([\w-]+):5432/", api["environment"]["DATABASE_URL"]).group(1)
    assert database_host in SERVICES and database_host in api["depends_on"]
    assert api["environment"]["BOTS_PATH"] in " ".join(api["volumes"])  # the host path it hands to bot containers


def test_the_panel_reaches_hummingbot_and_its_database_by_service_name():
    environment = SERVICES["web"]["environment"]
    assert environment["HUMMINGBOT_API_URL"] == "http://hummingbot-api:8000"
    assert re.search(r"@db:5432/", environment["DATABASE_URL"])
    assert environment["HUMMINGBOT_API_PASSWORD"] == SERVICES["hummingbot-api"]["environment"]["PASSWORD"]


def test_every_dependency_names_a_service():
    for name, service in SERVICES.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"


def test_ports_are_well_formed():
    port = r"(?:\d{1,5}|\$\{[A-Z_]+:-\d{1,5}\})"
    for name, service in SERVICES.items():
        for mapping in service.get("ports", []):
            assert re.fullmatch(rf"(?:\d{{1,3}}(?:\.\d{{1,3}}){{3}}:)?{port}:\d{{1,5}}", mapping), f"{name}: {mapping}"
    assert SERVICES["web"]["ports"] == ["${PANEL_PORT:-8000}:8000"]


def test_every_variable_compose_references_is_in_env_example_and_nothing_else_is():
    referenced = set(REFERENCE.findall((ROOT / "docker-compose.yml").read_text()))
    assert referenced == set(env_example())


def test_dockerfile_checks_health_and_names_the_release_step():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r'^HEALTHCHECK .*CMD \["python", "scripts/healthcheck.py"\]$', dockerfile, re.M)
    assert RELEASE in dockerfile
    assert "python manage.py qcluster" in dockerfile


def test_dockerignore_keeps_tests_benchmarks_and_screenshots_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {"tests", "bench", "docs/screenshots", ".env"} <= ignored


def test_railway_runs_the_release_step_and_checks_health_and_a_worker_from_the_same_image():
    web = json.loads((ROOT / "railway.json").read_text())
    worker = json.loads((ROOT / "railway.worker.json").read_text())
    assert web["deploy"]["healthcheckPath"] == "/health"
    assert web["deploy"]["preDeployCommand"] == [RELEASE]
    assert worker["deploy"]["startCommand"] == "python manage.py qcluster"
    assert web["build"] == worker["build"] == {"builder": "DOCKERFILE", "dockerfilePath": "Dockerfile"}


def run_healthcheck(port):
    env = {"PORT": str(port), "ALLOWED_HOSTS": "localhost"}
    return subprocess.run([sys.executable, "scripts/healthcheck.py"], cwd=ROOT, env=env, capture_output=True).returncode


@pytest.mark.django_db(transaction=True)
def test_healthcheck_script_passes_only_while_health_is_ok(live_server, hummingbot, settings):
    port = int(live_server.url.rsplit(":", 1)[1])
    assert run_healthcheck(port) == 0
    from django.core.cache import cache

    settings.HUMMINGBOT_API_URL = "http://127.0.0.1:9"
    cache.clear()  # forget the cached healthy answer
    assert run_healthcheck(port) == 1


def test_every_setting_a_deployer_can_set_is_in_the_readme():
    test_only = {"Q_SYNC", "STATICFILES_BACKEND"}  # set by bridge/test_settings.py
    readme = (ROOT / "README.md").read_text()
    assert {name for name in settings_variables() - test_only if f"`{name}`" not in readme} == set()
