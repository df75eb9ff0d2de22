"""Replay of the responses captured from the real hummingbot-api, for `responses` mocks."""
import json
from pathlib import Path

import responses

CAPTURED = Path(__file__).parent / "captured"


def record(name: str) -> dict:
    return json.loads((CAPTURED / f"{name}.json").read_text())


def replay(mock: responses.RequestsMock, base_url: str, name: str, *, url: str | None = None, method: str | None = None):
    """Register the captured answer for its own request (or for `method url` when given)."""
    rec = record(name)
    request = rec["request"]
    path = url or request["url"]
    content_type = rec["headers"]["content-type"]
    body = rec["body"]
    kwargs = {"status": rec["status_code"], "content_type": content_type.split(";")[0]}
    if content_type.startswith("application/json"):
        kwargs["body"] = json.dumps(body)
    else:
        kwargs["body"] = body
    if rec["status_code"] == 401:
        kwargs["headers"] = {"WWW-Authenticate": "Basic"}
    mock.add(method or request["method"], base_url + path, **kwargs)
    return rec
