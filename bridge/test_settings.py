"""Settings for the test suite: the real settings, loaded from test-only values set before they load."""
import os
import re
import tempfile
from pathlib import Path


def settings_variables() -> set[str]:
    """Every environment variable bridge/settings.py reads (env.str/list/db(...), number(...), flag(...))."""
    source = (Path(__file__).resolve().parent / "settings.py").read_text()
    return set(re.findall(r"""(?:env\.\w+|number|flag)\(\s*"([A-Z][A-Z0-9_]*)\"""", source))


# Forced, not defaults: a variable in the shell (or a local .env) must never change a test's outcome.
# DATABASE_URL alone comes from the environment: it picks SQLite or PostgreSQL. Every other variable the
# settings read is removed, so its default applies.
FORCED = {
    "DEBUG": "false",
    "SECRET_KEY": "test-only-secret-key",
    "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    "HUMMINGBOT_API_URL": "http://hummingbot.test:8000",
    "HUMMINGBOT_API_USERNAME": "admin",
    "HUMMINGBOT_API_PASSWORD": "s3cret-hb-pass",
    "HUMMINGBOT_TIMEOUT": "2",
    "HUMMINGBOT_RETRIES": "1",
    "HUMMINGBOT_SANDBOX": "false",
    "Q_SYNC": "1",
    "BOTS_SYNC_SECONDS": "60",  # one sync per task run
    "TRADES_SYNC_MINUTES": "1",
    "VANISHED_AFTER_SECONDS": "60",
    "WRITE_THROTTLE_RATE": "60/min",
    "LOG_LEVEL": "INFO",
    # The test client and the live server speak plain http (tests/test_deploy_settings.py checks production's HTTPS).
    "SECURE_SSL_REDIRECT": "false",
    "SECURE_COOKIES": "false",
}
for name in settings_variables() - {"DATABASE_URL"} - FORCED.keys():
    os.environ.pop(name, None)
os.environ.update(FORCED)

from bridge.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# One process runs the suite: a per-process cache that conftest clears before each test
# (tests/test_deploy_abuse.py checks the shared database cache with two processes).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, as deployed, not SQLite's shared-cache in-memory database (whose table locks no busy
    # timeout waits for): the race tests need the locking a real desk gets. One file per run.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"trading-bridge-test-{os.getpid()}.sqlite3")
    }
