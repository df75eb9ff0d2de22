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
# The two forms the file uses: `${NAME:-default}` and `${NAME:?message}` (an empty value counts as unset for both).
VARIABLE = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?P<operator>:-|:\?)(?P<argument>[^}]*)\}")
SECRET = re.compile(r"PASSWORD|SECRET|TOKEN|KEY")


class MissingVariables(Exception):
    def __init__(self, messages: dict):
        super().__init__(messages)
        self.messages = messages


def compose_config(environment: dict) -> dict:
    """docker-compose.yml with its variables resolved from `environment` as `docker compose config` resolves
    them from `.env` (no Docker engine here): MissingVariables names every required one left unset or empty."""
    missing = {}

    def substitute(match):
        name, operator, argument = match["name"], match["operator"], match["argument"]
        if environment.get(name):
            return environment[name]
        if operator == ":?":
            missing[name] = argument
        return argument if operator == ":-" else ""

    def resolve(value):
        if isinstance(value, dict):
            return {key: resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [resolve(item) for item in value]
        return VARIABLE.sub(substitute, value) if isinstance(value, str) else value

    config = resolve(COMPOSE)
    if missing:
        raise MissingVariables(missing)
    return config


def env_example() -> dict:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def secrets_filled(**more) -> dict:
    """Only what a person must set: .env.example's empty values, filled in."""
    return {name: f"chosen-{name.lower()}" for name, value in env_example().items() if not value} | more


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


def test_compose_uses_only_the_variable_forms_checked_here():
    text = (ROOT / "docker-compose.yml").read_text()
    assert len(VARIABLE.findall(text)) == text.count("${") == text.count("$")


def test_compose_refuses_to_start_until_every_secret_is_set_naming_each():
    with pytest.raises(MissingVariables) as refused:
        compose_config(env_example())  # `cp .env.example .env` and nothing filled in
    assert refused.value.messages == {name: f"set {name} in .env" for name in (
        "SECRET_KEY", "BRIDGE_DB_PASSWORD", "HUMMINGBOT_API_PASSWORD", "HUMMINGBOT_CONFIG_PASSWORD",
        "HUMMINGBOT_DB_PASSWORD", "HUMMINGBOT_BOTS_PATH", "BROKER_PASSWORD")}
    for name in refused.value.messages:
        with pytest.raises(MissingVariables) as refused_one:
            compose_config(secrets_filled(**{name: ""}))
        assert set(refused_one.value.messages) == {name}


def test_no_secret_falls_back_to_a_default_and_env_example_suggests_none():
    text = (ROOT / "docker-compose.yml").read_text()
    defaulted = {match["name"] for match in VARIABLE.finditer(text) if SECRET.search(match["name"])
                 and match["operator"] != ":?"}
    assert defaulted == set()
    assert {name: value for name, value in env_example().items() if SECRET.search(name) and value} == {}


def published_ports(config: dict) -> dict:
    return {name: service["ports"] for name, service in config["services"].items() if "ports" in service}


def test_published_ports_listen_on_loopback_unless_panel_bind_address_opens_them():
    assert published_ports(compose_config(secrets_filled())) == {"web": ["127.0.0.1:8000:8000"]}
    assert published_ports(compose_config(env_example() | secrets_filled())) == {"web": ["127.0.0.1:8000:8000"]}
    opened = compose_config(secrets_filled(PANEL_BIND_ADDRESS="0.0.0.0", PANEL_PORT="8080"))
    assert published_ports(opened) == {"web": ["0.0.0.0:8080:8000"]}


def test_every_variable_compose_references_is_in_env_example_and_nothing_else_is():
    referenced = {match["name"] for match in VARIABLE.finditer((ROOT / "docker-compose.yml").read_text())}
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


def test_every_variable_of_env_example_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    assert [name for name in env_example() if f"`{name}`" not in readme] == []


def test_every_setting_a_deployer_can_set_is_in_the_readme():
    test_only = {"Q_SYNC", "STATICFILES_BACKEND"}  # set by bridge/test_settings.py
    readme = (ROOT / "README.md").read_text()
    assert {name for name in settings_variables() - test_only if f"`{name}`" not in readme} == set()
