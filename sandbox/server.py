"""Routing, faults and HTTP Basic in the order the real stack applies them, and the threaded HTTP server."""

from __future__ import annotations

import base64
import hmac
import json
import re
import sys
import threading
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from .config import SandboxConfig
from .endpoints import _NO_BODY, Route, _parse_json, _Query, _Request, route_table
from .replies import _INTERNAL_ERROR, _ApiError, _Reply, _unauthorized
from .state import SandboxState

# --------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class _Path:
    regex: re.Pattern
    methods: dict[str, Route]


_PATH_PARAM = re.compile(r"{(\w+)(:path)?}")


def _compile(pattern: str) -> re.Pattern:
    """Starlette path syntax: {name} matches one segment, {name:path} anything."""
    parts, position = [], 0
    for match in _PATH_PARAM.finditer(pattern):
        parts.append(re.escape(pattern[position:match.start()]))
        parts.append(f"(?P<{match[1]}>{'.*' if match[2] else '[^/]+'})")
        position = match.end()
    parts.append(re.escape(pattern[position:]))
    return re.compile("".join(parts))


def _paths(routes: list[Route]) -> list[_Path]:
    """The routes grouped by path, in declared order: Starlette tries paths in turn, and a path that
    matches without the method answers 405 with the path's methods."""
    methods: dict[str, dict[str, Route]] = {}
    for route in routes:
        methods.setdefault(route.path, {})[route.method] = route
    return [_Path(_compile(path), by_method) for path, by_method in methods.items()]


_REFUSE = object()  # close the connection without answering
_FAULT_REPLIES = {
    "500": _INTERNAL_ERROR,
    "401": _unauthorized("Incorrect username or password"),
    "nonjson": _Reply(200, "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
                          "<body><h1>502 Bad Gateway</h1><p>Sandbox fault</p></body></html>", "html"),
    "error200": _Reply(200, {"status": "error", "message": "Sandbox fault"}),
    "exchange_down": _Reply(500, {"detail": "Error getting market data: Cannot connect to host api.exchange "
                                            "(sandbox fault: the exchange is unreachable)"}),
}


class _App:
    """Faults, routing, auth and dispatch, in the order the real stack applies them."""

    def __init__(self, state: SandboxState, config: SandboxConfig, after_write: Callable[[], None] | None = None):
        self.state = state
        self.config = config
        self.paths = _paths(route_table(state))
        self.after_write = after_write

    def handle(self, method: str, path: str, query: dict, raw_body: bytes, headers) -> Any:
        reply = self._handle(method, path, query, raw_body, headers)
        if method != "GET" and self.after_write is not None:
            self.after_write()  # before the reply: what a client was told is done survives a restart
        return reply

    def _handle(self, method: str, path: str, query: dict, raw_body: bytes, headers) -> Any:
        if not path.startswith("/_sandbox/"):  # faults must never lock out their own controls
            fault = self.state.take_fault(method, path)
            if fault is not None:
                fault.arrived.set()
                if fault.kind != "delay":
                    fault.handled.set()
                    return _REFUSE if fault.kind == "refuse" else _FAULT_REPLIES[fault.kind]
                fault.released.wait(fault.seconds)
                try:
                    return self._answer(method, path, query, raw_body, headers)
                finally:
                    fault.handled.set()
        return self._answer(method, path, query, raw_body, headers)

    def _answer(self, method, path, query, raw_body, headers) -> _Reply:
        try:
            return self._dispatch(method, path, query, raw_body, headers)
        except _ApiError as exc:
            return exc.reply
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return _INTERNAL_ERROR

    def _dispatch(self, method, path, query, raw_body, headers) -> _Reply:
        endpoint, params, allowed = self._match(method, path)
        if endpoint is None and allowed:
            return _Reply(405, {"detail": "Method Not Allowed"},
                         headers=(("Allow", ", ".join(allowed)),))
        if endpoint is None:
            return _Reply(404, {"detail": "Not Found"})
        body = _parse_json(raw_body) if endpoint.body else _NO_BODY
        if not endpoint.public:
            failure = self._auth_failure(headers.get("Authorization"))
            if failure is not None:
                return failure
        return endpoint.handler(_Request(method, path, params, query, body))

    def _match(self, method: str, path: str):
        """Starlette: the first full match wins; a path-only match means 405."""
        allowed = None
        for candidate in self.paths:
            match = candidate.regex.fullmatch(path)
            if match is None:
                continue
            if method in candidate.methods:
                return candidate.methods[method], match.groupdict(), None
            allowed = allowed or list(candidate.methods)
        return None, None, allowed

    def _auth_failure(self, header: str | None) -> _Reply | None:
        """FastAPI's HTTPBasic plus the API's constant-time credentials check."""
        scheme, _, encoded = (header or "").partition(" ")
        if not header or scheme.lower() != "basic":
            return _unauthorized("Not authenticated")
        try:
            decoded = base64.b64decode(encoded).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return _unauthorized("Invalid authentication credentials")
        username, separator, password = decoded.partition(":")
        if not separator:
            return _unauthorized("Invalid authentication credentials")
        user_ok = hmac.compare_digest(username.encode(), self.config.username.encode())
        password_ok = hmac.compare_digest(password.encode(), self.config.password.encode())
        if user_ok and password_ok:
            return None
        return _unauthorized("Incorrect username or password")
# --------------------------------------------------------------------------- HTTP server

_CONTENT_TYPES = {"json": "application/json", "text": "text/plain; charset=utf-8",
                  "html": "text/html; charset=utf-8"}


class _HttpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # drop idle keep-alive connections
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid the ACK stall
    server: "_Server"

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_PATCH(self):
        self._serve("PATCH")

    def do_DELETE(self):
        self._serve("DELETE")

    def version_string(self):
        return "uvicorn"

    def log_message(self, format, *args):
        """Silenced: _serve logs one line per request, without headers or bodies."""

    def _serve(self, method: str):
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = _Query(parse_qsl(split.query, keep_blank_values=True))
        raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        reply = self.server.app.handle(method, path, query, raw_body, self.headers)
        if reply is _REFUSE:
            self.close_connection = True
            self._log(method, path, "refused")
            return
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up first (its own timeout)
            self.close_connection = True
            self._log(method, path, "client gone")
            return
        self._log(method, path, reply.status)

    def _send(self, reply: _Reply):
        if reply.kind == "json":
            payload = json.dumps(reply.body, ensure_ascii=False, allow_nan=False,
                                 separators=(",", ":")).encode()
        else:
            payload = reply.body.encode()
        self.send_response(reply.status)
        self.send_header("content-type", _CONTENT_TYPES[reply.kind])
        self.send_header("content-length", str(len(payload)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _log(self, method: str, path: str, outcome):
        if self.server.app.config.log_requests:
            sys.stderr.write(f"[sandbox] {method} {path} {outcome}\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, app: _App):
        super().__init__(address, _HttpHandler)
        self.app = app


class Sandbox:
    """A running sandbox server; stop() it, or use it as a context manager."""

    def __init__(self, server: _Server, state: SandboxState):
        self.state = state
        self._server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,),
                                        name="hummingbot-sandbox", daemon=True)
        self._thread.start()

    def stop(self):
        if not self._thread.is_alive():
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc_info):
        self.stop()


def start_sandbox(config: SandboxConfig | None = None, *, state: SandboxState | None = None,
                  after_write: Callable[[], None] | None = None) -> Sandbox:
    """Serve the sandbox in a background thread; `config.port=0` picks a free port. `after_write` runs after
    every request that may change the state (any method but GET), before its reply is sent."""
    config = config or (state.config if state else SandboxConfig())
    state = state or SandboxState(config)
    server = _Server((config.host, config.port), _App(state, config, after_write))
    return Sandbox(server, state)
