"""Field validators shared by models, serializers and forms.

The name rule is the one hummingbot-api enforces on instance names, credential profiles and
account names (`^[A-Za-z0-9_-]+$`); anything else makes the upstream answer HTTP 500.
"""
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

NAME_PATTERN = r"^[A-Za-z0-9_-]+\Z"
PAIR_PATTERN = r"^[A-Za-z0-9]{1,64}-[A-Za-z0-9]{1,64}\Z"

# Hummingbot appends "-YYYYmmdd-HHMMSS" (16 characters) to a bot's name and uses the result as
# the docker container name; 47 + 16 keeps it within docker's practical 63.
BOT_NAME_MAX_LENGTH = 47
ACCOUNT_NAME_MAX_LENGTH = 64

validate_name = RegexValidator(
    NAME_PATTERN,
    "Use only letters A-Z, digits, '_' and '-' (no spaces, dots, slashes or accents).",
    code="invalid_name",
)
validate_trading_pair = RegexValidator(
    PAIR_PATTERN,
    "Trading pair must look like BASE-QUOTE, e.g. SHARP-USDT.",
    code="invalid_pair",
)

# A bot's name is its id in API paths (/bots/<name>, docs/design.md §4): a name equal to a fixed path
# segment under /bots could not be reached, or would be reached by the wrong request.
RESERVED_BOT_NAMES = frozenset({"create", "start", "stop", "trades"})


def is_reserved_bot_name(name: str) -> bool:
    return name.lower() in RESERVED_BOT_NAMES


def validate_unreserved_bot_name(name: str) -> None:
    if is_reserved_bot_name(name):
        raise ValidationError(
            f"'{name}' is reserved (a word in the API's paths); choose another name.", code="reserved_name"
        )


# Totals are read per UTC day from the daily rollups (docs/design.md §12); a year at most per request.
LONGEST_PERIOD_DAYS = 366


def validate_period(since, until) -> None:
    """UTC days since..until, both included: in order, and at most LONGEST_PERIOD_DAYS of them."""
    if since > until:
        raise ValidationError({"since": f"The first day ({since}) is after the last ({until}): swap them."})
    if (until - since).days + 1 > LONGEST_PERIOD_DAYS:
        raise ValidationError({"until": f"{(until - since).days + 1} days from {since} to {until}: at most "
                                        f"{LONGEST_PERIOD_DAYS} at once."})
