"""Replies and the error that carries one up from anywhere below the HTTP layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import _SAFE_NAME

# --------------------------------------------------------------------------- replies and errors


@dataclass(frozen=True)
class _Reply:
    status: int
    body: Any = None
    kind: str = "json"  # json | text | html
    headers: tuple = ()


class _ApiError(Exception):
    """Raised anywhere below the HTTP layer to answer with `reply`."""

    def __init__(self, reply: _Reply):
        super().__init__(reply.status)
        self.reply = reply


_BASIC_CHALLENGE = (("WWW-Authenticate", "Basic"),)
_INTERNAL_ERROR = _Reply(500, "Internal Server Error", "text")


def _detail(status: int, detail: Any) -> _ApiError:
    return _ApiError(_Reply(status, {"detail": detail}))


def _unauthorized(detail: str) -> _Reply:
    return _Reply(401, {"detail": detail}, headers=_BASIC_CHALLENGE)


def _validate_safe_name(name: str, label: str) -> str:
    if not name or not _SAFE_NAME.fullmatch(name):
        raise _detail(400, f"Invalid {label}: '{name}'. Only letters, numbers, underscores and "
                           "hyphens are allowed.")
    return name
