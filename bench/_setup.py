"""Shared start-up for the benchmarks: a fresh scratch database and a sandbox.

The database comes from BENCH_DATABASE_URL (never DATABASE_URL, so a benchmark can't touch real data):
SQLite in a temporary folder by default, or a PostgreSQL database that is dropped and created anew.
"""
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def django_with_scratch_db() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    if url.startswith("postgres"):
        _recreate_postgres_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "testserver"  # the in-process test client's host
    os.environ["DJANGO_SETTINGS_MODULE"] = "bridge.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    return connection.vendor


def _recreate_postgres_database(url: str) -> None:
    import environ
    import psycopg

    config = environ.Env.db_url_config(url)
    admin = psycopg.connect(host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"],
                            password=config["PASSWORD"] or None, dbname="postgres", autocommit=True)
    name = psycopg.sql.Identifier(config["NAME"])
    admin.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
    admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(name))
    admin.close()


def start_sandbox_for_django(**config):
    from django.conf import settings

    from sandbox import SandboxConfig, start_sandbox

    sandbox = start_sandbox(SandboxConfig(port=0, username="admin", password="bench-pass", log_requests=False, **config))
    settings.HUMMINGBOT_API_URL = sandbox.url
    settings.HUMMINGBOT_API_USERNAME = "admin"
    settings.HUMMINGBOT_API_PASSWORD = "bench-pass"
    settings.HUMMINGBOT_TIMEOUT = 60
    return sandbox
