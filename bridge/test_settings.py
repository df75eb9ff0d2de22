"""Settings for the test suite: the real settings plus test-only defaults set before they load."""
import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
os.environ.setdefault("HUMMINGBOT_API_URL", "http://hummingbot.test:8000")
os.environ.setdefault("HUMMINGBOT_API_USERNAME", "admin")
os.environ.setdefault("HUMMINGBOT_API_PASSWORD", "s3cret-hb-pass")
os.environ.setdefault("HUMMINGBOT_TIMEOUT", "2")
os.environ.setdefault("Q_SYNC", "1")
os.environ.setdefault("BOTS_SYNC_SECONDS", "60")  # one sync per task run

from bridge.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HUMMINGBOT_RETRIES = 1

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, as deployed, not SQLite's shared-cache in-memory database (whose table locks no busy
    # timeout waits for): the race tests need the locking a real desk gets. One file per run.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"trading-bridge-test-{os.getpid()}.sqlite3")
    }
