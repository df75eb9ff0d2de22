"""Production settings: `check --deploy` is clean with a production environment; DEBUG keeps plain http working."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789-abcdefghijkl",
    "ALLOWED_HOSTS": "panel.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://panel.example.com",
}


def run_manage(*args, **env):
    """manage.py in a fresh process whose environment holds only what is given (no .env, no inherited settings)."""
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
             "DJANGO_SETTINGS_MODULE": "bridge.settings", "DATABASE_URL": "sqlite:///:memory:", **env}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True)


def settings_of(*names, **env):
    code = "import json, django; django.setup(); from django.conf import settings as s; " \
           f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}))"
    result = run_manage("shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_check_deploy_reports_no_issues_with_a_production_environment():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_behind_a_tls_proxy_the_forwarded_proto_header_is_trusted_only_when_configured():
    assert settings_of("SECURE_PROXY_SSL_HEADER", **PRODUCTION)["SECURE_PROXY_SSL_HEADER"] is None
    behind = settings_of("SECURE_PROXY_SSL_HEADER", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto", **PRODUCTION)
    assert behind["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_hsts_seconds_come_from_the_environment():
    assert settings_of("SECURE_HSTS_SECONDS", SECURE_HSTS_SECONDS="600", **PRODUCTION)["SECURE_HSTS_SECONDS"] == 600


def test_debug_keeps_the_demo_working_over_plain_http():
    names = ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS")
    assert settings_of(*names, DEBUG="true") == dict.fromkeys(names, False) | {"SECURE_HSTS_SECONDS": 0}
