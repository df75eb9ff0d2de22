"""The API's one parser: JSON bodies, bounded in size and depth, so a hostile body is a 4xx, never a 500."""
from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser
from rest_framework.utils import json as drf_json

# A create body nests three levels (body -> config -> list of spreads); anything far deeper is not ours,
# and would later overflow the stack of whatever walks it (serializers, JSONField encoding).
MAX_JSON_DEPTH = 32


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class BoundedJSONParser(BaseParser):
    """JSON up to settings.API_MAX_BODY_BYTES, nested at most MAX_JSON_DEPTH deep.

    Not a JSONParser subclass on purpose: DRF reads `request.body` whole for those before parsing;
    this one reads at most one byte past the limit from the stream.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise BodyTooLarge(f"The body is over {limit} bytes, the API's limit.")
        try:
            data = drf_json.loads(raw.decode("utf-8"))
        except RecursionError:
            raise ParseError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep.") from None
        except ValueError as exc:  # bad UTF-8, bad JSON, NaN/Infinity
            raise ParseError(f"JSON parse error - {exc}") from None
        if _depth_over(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep.")
        return data


def _depth_over(data, limit: int) -> bool:
    """Iterative, so the check itself cannot overflow the stack."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
    return False
