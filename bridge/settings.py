"""Trading Bridge settings: every knob comes from the environment (or `.env`), see README."""
import zoneinfo
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

FLAGS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False, "": False}


def number(name: str, cast, default):
    """A number from the environment; a typo is a start-up error naming the variable, never a silent default."""
    raw = env.str(name, default=str(default)).strip()
    try:
        return cast(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a {cast.__name__}, not {raw!r}") from None


def flag(name: str, default: bool) -> bool:
    raw = env.str(name, default=str(default)).strip().lower()
    if raw not in FLAGS:
        raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")
    return FLAGS[raw]


DEBUG = flag("DEBUG", False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (set it in the environment or .env).")
    SECRET_KEY = "insecure-dev-only-key"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_q",
    "bots",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bridge.urls"
WSGI_APPLICATION = "bridge.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bots.context_processors.panel",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND", default="whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Hummingbot API (the upstream) ---
HUMMINGBOT_API_URL = env.str("HUMMINGBOT_API_URL", default="http://localhost:8000").rstrip("/")
HUMMINGBOT_API_USERNAME = env.str("HUMMINGBOT_API_USERNAME", default="hummingbot")
HUMMINGBOT_API_PASSWORD = env.str("HUMMINGBOT_API_PASSWORD", default="")
HUMMINGBOT_IMAGE = env.str("HUMMINGBOT_IMAGE", default="hummingbot/hummingbot:version-2.16.0")
HUMMINGBOT_TIMEOUT = number("HUMMINGBOT_TIMEOUT", float, 10.0)
# Deployed bot names end in the API server's local time (docs/hummingbot-api.md §2); its image runs in UTC
# unless TZ is set there. Used to recognise the bot a deploy created when its answer was lost.
HUMMINGBOT_TIME_ZONE = env.str("HUMMINGBOT_TIME_ZONE", default="UTC")
try:
    zoneinfo.ZoneInfo(HUMMINGBOT_TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"HUMMINGBOT_TIME_ZONE must be an IANA time zone such as UTC, not {HUMMINGBOT_TIME_ZONE!r}") from None
HUMMINGBOT_RETRIES = number("HUMMINGBOT_RETRIES", int, 2)
# Shown as a banner in the panel when the upstream is the bundled emulator.
HUMMINGBOT_SANDBOX = flag("HUMMINGBOT_SANDBOX", False)

# --- Sync ---
# django-q2 schedules run at most once a minute: the status task then syncs every BOTS_SYNC_SECONDS
# within its minute; `GET /bots` refreshes inline when the last attempt is older (one poller per interval).
BOTS_SYNC_SECONDS = number("BOTS_SYNC_SECONDS", int, 10)
if not 1 <= BOTS_SYNC_SECONDS <= 60:
    raise ImproperlyConfigured(f"BOTS_SYNC_SECONDS must be between 1 and 60, not {BOTS_SYNC_SECONDS}")
TRADES_SYNC_MINUTES = number("TRADES_SYNC_MINUTES", int, 1)
# A bot absent from Hummingbot's status list this long is gone (not_found, or archived once its archive
# shows). Judged over time, not calls: the list blinks and every GET /bots is a call (docs/hummingbot-api.md §10).
VANISHED_AFTER_SECONDS = number("VANISHED_AFTER_SECONDS", int, 60)

# --- DRF ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["bots.api.permissions.ModelPermissions"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "bots.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"writes": env.str("WRITE_THROTTLE_RATE", default="60/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Trading Bridge API",
    "DESCRIPTION": "Control panel API in front of the Hummingbot API.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Create takes spread|volume; bots read back may also be `external` (adopted).
    "ENUM_NAME_OVERRIDES": {"CreatableStrategyEnum": ["spread", "volume"], "BotStrategyEnum": "bots.models.Bot.Strategy"},
}

# --- django-q2: the ORM broker, so no Redis is needed ---
Q_CLUSTER = {
    "name": "trading-bridge",
    "orm": "default",
    "workers": number("Q_WORKERS", int, 2),
    "timeout": number("Q_TIMEOUT", int, 120),
    "retry": number("Q_RETRY", int, 180),
    "max_attempts": 1,
    "catch_up": False,
    "sync": flag("Q_SYNC", False),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
