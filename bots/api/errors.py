"""One error body for the whole API: {"error": {"code", "message", "details"}}; never an HTML 500."""
import logging
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import replace

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from bots import strategies
from bots.hummingbot.errors import (
    HummingbotError,
    HummingbotTimeout,
    HummingbotUnreachable,
)
from bots.services import ConfirmationRequired, Refused, StateConflict

CONFIRMATION_MESSAGE = ("The pre-trade checks ask for a second look: nothing was sent. Read the warnings, then send "
                        "the same body with \"confirm\": true to go ahead.")

log = logging.getLogger(__name__)


def upstream_status(exc: HummingbotError) -> int:
    """504 when Hummingbot timed out, 503 when it can't be reached, 502 for any other upstream failure."""
    if isinstance(exc, HummingbotTimeout):
        return status.HTTP_504_GATEWAY_TIMEOUT
    if isinstance(exc, HummingbotUnreachable):
        return status.HTTP_503_SERVICE_UNAVAILABLE
    return status.HTTP_502_BAD_GATEWAY


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def upstream_error_body(exc: HummingbotError) -> dict:
    return error_body(exc.code, exc.message, {"permanent": exc.permanent, "upstream_status": exc.status})


# What a create body calls the fields the services name after the Bot row (docs/design.md §4): the seed's `pair`.
CREATE_BODY_FIELDS = {"name": "name", "account": "account", "strategy": "strategy", "connector": "connector",
                      "trading_pair": "pair"}
PARAMS_KEYS = ("config", "params")


def params_key(body) -> str:
    """Which of the two synonyms the request nests the strategy parameters in."""
    return "params" if isinstance(body, Mapping) and "params" in body and "config" not in body else "config"


def request_field(field: str, *, body_fields: Mapping[str, str], params_key: str) -> str:
    """A field as the request names it: a body field by its key, a strategy parameter as `<params_key>.<name>`
    (`config.order_amount`), the parameters as a whole by the key the request used."""
    if field in body_fields:
        return body_fields[field]
    if field in PARAMS_KEYS:
        return params_key
    if field == "__all__":
        return "non_field_errors"
    return f"{params_key}.{field}"


def _in_params_key(field: str, params_key: str) -> str:
    parent, _, name = field.partition(".")
    return f"{params_key}.{name}" if parent in PARAMS_KEYS and name else field


@contextmanager
def named_as_in_request(*, body_fields: Mapping[str, str], params_key: str):
    """A service's field errors (Bot row and parameter names) answered with the request's names. The pre-trade
    checks already name request fields (`pair`, `config.<name>`): only the parameters' key is the request's."""
    try:
        yield
    except ConfirmationRequired as exc:
        raise ConfirmationRequired(
            [replace(warning, field=_in_params_key(warning.field, params_key)) for warning in exc.warnings]) from None
    except Refused as exc:
        raise exceptions.ValidationError({_in_params_key(field, params_key): messages
                                          for field, messages in exc.message_dict.items()}) from None
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise exceptions.ValidationError({
            request_field(field, body_fields=body_fields, params_key=params_key): messages
            for field, messages in exc.message_dict.items()
        }) from None


def exception_handler(exc, context):
    if isinstance(exc, HummingbotError):
        return Response(upstream_error_body(exc), status=upstream_status(exc))
    if isinstance(exc, ConfirmationRequired):
        return Response(error_body("confirmation_required", CONFIRMATION_MESSAGE,
                                   {"warnings": [warning.as_dict() for warning in exc.warnings]}),
                        status=status.HTTP_409_CONFLICT)
    if isinstance(exc, StateConflict):
        return Response(error_body("conflict", str(exc)), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, SuspiciousOperation):  # e.g. too many query fields: the caller's doing
        return Response(error_body("bad_request", str(exc) or "Bad request."), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, strategies.ParamsError):
        exc = exceptions.ValidationError(exc.errors)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})
    elif isinstance(exc, (Http404, ObjectDoesNotExist)):
        exc = exceptions.NotFound("No such bot or account.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        log.exception("unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        return Response(
            error_body("server_error", "Something went wrong on our side; it has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("invalid", _first_message(details), details)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        response.data = error_body(getattr(exc, "default_code", "error"), str(detail))
    return response


def _first_message(details) -> str:
    for field, messages in details.items():
        first = messages[0] if isinstance(messages, list) and messages else messages
        if isinstance(first, dict):
            return _first_message(first)
        return f"{field}: {first}" if field != "non_field_errors" else str(first)
    return "Invalid input."
