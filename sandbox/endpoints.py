"""Request parsing as FastAPI does it, and one handler per route."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

from . import market
from .config import API_VERSION, CONNECTORS, CONTROLLER_TYPES, _config_map
from .replies import _INTERNAL_ERROR, _ApiError, _detail, _Reply
from .state import SandboxState, _page, _unique
from .validation import (
    _CONTROLLER_BODY,
    _DEPLOY_BODY,
    _FAULT_BODY,
    _FILLS_BODY,
    _PRICE_REQUEST,
    _REQUIRED,
    _SPAWN_BODY,
    _START_BOT_BODY,
    _STOP_BOT_BODY,
    _bool,
    _error,
    _expected,
    _float,
    _int,
    _Invalid,
    _nest,
    _pydantic_text,
    _Schema,
    _str,
    _validate,
)

# --------------------------------------------------------------------------- request parsing

_NO_BODY = object()


class _Query(dict):
    """The query string as FastAPI reads it: the last value of a name for a scalar, `lists` for a repeated
    list parameter (`?trading_pairs=A-B&trading_pairs=C-D`)."""

    def __init__(self, pairs: list[tuple[str, str]]):
        super().__init__(pairs)
        self.lists: dict[str, list[str]] = {}
        for name, value in pairs:
            self.lists.setdefault(name, []).append(value)


@dataclass
class _Request:
    method: str
    path: str
    params: dict
    query: _Query
    body: Any


class _Inputs:
    """Collects request-validation errors as FastAPI does (path, query, then body), then fails
    once: 422 with the error list, or HTTP 500 text when a field validator raised ValueError
    (FastAPI cannot JSON-encode the exception in ctx: the real server's trap)."""

    def __init__(self, request: _Request):
        self.request = request
        self.errors: list[dict] = []

    def path_enum(self, name: str, choices: tuple) -> str:
        value = self.request.params[name]
        if value not in choices:
            expected = _expected(choices)
            self.errors.append(_error("enum", f"Input should be {expected}", value, ("path", name),
                                      {"expected": expected}))
        return value

    def query(self, name: str, parse: Callable, default: Any = _REQUIRED) -> Any:
        if name not in self.request.query:
            if default is _REQUIRED:
                self.errors.append(_error("missing", "Field required", None, ("query", name)))
            return None if default is _REQUIRED else default
        try:
            return parse(self.request.query[name])
        except _Invalid as exc:
            self.errors.extend(_nest("query", _nest(name, exc.errors)))
            return None

    def body(self) -> Any:
        """The JSON body; an absent body and a JSON null are both "missing" to FastAPI."""
        body = self.request.body
        if body is _NO_BODY or body is None:
            self.errors.append(_error("missing", "Field required", None, ("body",)))
            return None
        return body

    def body_dict(self) -> dict | None:
        body = self.body()
        if body is not None and not isinstance(body, dict):
            self.errors.append(_error("dict_type", "Input should be a valid dictionary", body,
                                      ("body",)))
            return None
        return body

    def body_model(self, schema: _Schema) -> dict | None:
        body = self.body()
        if body is None:
            return None
        if not isinstance(body, dict):
            self.errors.append(_error("model_attributes_type", "Input should be a valid dictionary "
                                      "or object to extract fields from", body, ("body",)))
            return None
        data, errors = _validate(schema, body)
        self.errors.extend(_nest("body", errors))
        return data

    def check(self):
        if not self.errors:
            return
        if any(error["type"] == "value_error" for error in self.errors):
            raise _ApiError(_INTERNAL_ERROR)
        raise _ApiError(_Reply(422, {"detail": [{**error, "loc": list(error["loc"])}
                                              for error in self.errors]}))


def _parse_json(raw: bytes) -> Any:
    """The request body as FastAPI reads it; 422 json_invalid when it is not JSON."""
    if not raw:
        return _NO_BODY
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        position, message = (exc.pos, exc.msg) if isinstance(exc, json.JSONDecodeError) \
            else (0, "Invalid UTF-8")
        raise _ApiError(_Reply(422, {"detail": [{"type": "json_invalid", "loc": ["body", position],
                                               "msg": "JSON decode error", "input": {},
                                               "ctx": {"error": message}}]}))
# --------------------------------------------------------------------------- endpoints
#
# The route table (route_table, at the end) has one row per method and path. A row whose handler only hands
# the path parameters, and at most one validated input, to a state method is `call(method, reply, read)`;
# the routes with rules of their own (path enums, body models, traps) are _Endpoints methods.


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # Starlette syntax: {name} matches one segment, {name:path} the rest
    handler: Callable[[_Request], _Reply]
    body: bool = False  # reads a JSON body (parsed before auth, as FastAPI does)
    public: bool = False


def _json(result, params) -> _Reply:
    return _Reply(200, result)


def _status_data(result, params) -> _Reply:
    """The envelope of the orchestration reads."""
    return _Reply(200, {"status": "success", "data": result})


def _message(status: int, text: str) -> Callable[[Any, dict], _Reply]:
    """A fixed message; `text` may name path parameters: "Configuration '{config_name}' saved"."""
    return lambda result, params: _Reply(status, {"message": text.format(**params)})


def _body_object(inputs: _Inputs) -> list:
    return [inputs.body_dict()]


def _query(name: str, default: Any = _REQUIRED) -> Callable[[_Inputs], list]:
    return lambda inputs: [inputs.query(name, _str, default)]


def _call(state: SandboxState, method: str, reply: Callable[[Any, dict], _Reply] = _json,
          read: Callable[[_Inputs], list] | None = None, first: tuple = ()) -> Callable[[_Request], _Reply]:
    """A handler: `state.<method>(*first, *path parameters in path order, *read(inputs))`, its result shaped
    by `reply`. The method is looked up per request, so a test can replace it on a running sandbox."""

    def handler(request: _Request) -> _Reply:
        extra = []
        if read is not None:
            inputs = _Inputs(request)
            extra = read(inputs)
            inputs.check()
        return reply(getattr(state, method)(*first, *request.params.values(), *extra), request.params)

    return handler


def _constant(value: Any) -> Callable[[_Request], _Reply]:
    return lambda request: _Reply(200, value)


class _Endpoints:
    """The routes with rules of their own; each takes a _Request and returns a _Reply."""

    def __init__(self, state: SandboxState):
        self.state = state

    def connector_config_map(self, request):
        fields = _config_map(request.params["connector_name"])
        return _INTERNAL_ERROR if fields is None else _Reply(200, fields)

    def portfolio_state(self, request):
        body = None if request.body is _NO_BODY else request.body
        return _Reply(200, self.state.portfolio.state(body, accounts=self.state.list_accounts()))

    # ---------------------------------------------------------------- market data (§13)

    def prices(self, request):
        inputs = _Inputs(request)
        body = inputs.body_model(_PRICE_REQUEST)
        inputs.check()
        answer = market.prices(body["connector_name"], body["trading_pairs"], self.state.last_price)
        return _Reply(200, {**answer, "timestamp": self.state.now()})

    def trading_rules(self, request):
        pairs = request.query.lists.get("trading_pairs", [])
        return _Reply(200, market.trading_rules(request.params["connector_name"], pairs))

    # ---------------------------------------------------------------- controllers

    def get_controller(self, request):
        inputs = _Inputs(request)
        kind = inputs.path_enum("controller_type", CONTROLLER_TYPES)
        inputs.check()
        return _Reply(200, self.state.get_controller(kind, request.params["controller_name"]))

    def save_controller(self, request):
        inputs = _Inputs(request)
        kind = inputs.path_enum("controller_type", CONTROLLER_TYPES)
        controller = inputs.body_model(_CONTROLLER_BODY)
        inputs.check()
        name = request.params["controller_name"]
        if controller["type"] is not None and controller["type"] != kind:
            raise _detail(400, f"Controller type mismatch: URL has '{_enum_text(kind)}', body has "
                               f"'{_enum_text(controller['type'])}'")
        self.state.save_controller(kind, name, controller["content"])
        return _Reply(201, {"message": f"Controller '{name}' saved successfully in '{kind}'"})

    def validate_config(self, request):
        inputs = _Inputs(request)
        kind = inputs.path_enum("controller_type", CONTROLLER_TYPES)
        config = inputs.body_dict()
        inputs.check()
        name = request.params["controller_name"]
        config_class = self.state.config_class(kind, name)
        if config_class is None:
            raise _detail(404, f"Controller configuration class for '{name}' not found")
        try:
            errors = _validate(config_class.api, config)[1]
        except Exception as exc:  # the router's `except Exception`: 400 with str(exc)
            raise _detail(400, str(exc))
        if errors:
            raise _detail(400, _pydantic_text(config_class.api.title, errors))
        return _Reply(200, {"message": "Configuration is valid"})

    # ---------------------------------------------------------------- bot orchestration

    def deploy(self, request):
        inputs = _Inputs(request)
        body = inputs.body_model(_DEPLOY_BODY)
        inputs.check()
        drawdowns = {key: body[key] for key in ("max_global_drawdown_quote",
                                                "max_controller_drawdown_quote")}
        return _Reply(200, self.state.deploy(body["instance_name"], body["credentials_profile"],
                                            body["controllers_config"], body["image"],
                                            body["headless"], drawdowns))

    def stop_bot(self, request):
        inputs = _Inputs(request)
        body = inputs.body_model(_STOP_BOT_BODY)
        inputs.check()
        response = self.state.stop_bot(body["bot_name"], body["skip_order_cancellation"],
                                       body["async_backend"])
        return _Reply(200, {"status": "success", "response": response})

    def start_bot(self, request):
        inputs = _Inputs(request)
        body = inputs.body_model(_START_BOT_BODY)
        inputs.check()
        return _Reply(200, {"status": "success", "response": self.state.start_bot(body["bot_name"])})

    def stop_and_archive(self, request):
        inputs = _Inputs(request)
        skip = inputs.query("skip_order_cancellation", _bool, True)
        archive_locally = inputs.query("archive_locally", _bool, True)
        s3_bucket = inputs.query("s3_bucket", _str, None)
        inputs.check()
        return _Reply(200, self.state.stop_and_archive(request.params["bot_name"], skip,
                                                      archive_locally, s3_bucket))

    def history(self, request):
        inputs = _Inputs(request)
        days = inputs.query("days", _int, 0)
        inputs.query("verbose", _bool, False)
        inputs.query("precision", _int, None)
        timeout = inputs.query("timeout", _float, 30.0)
        inputs.check()
        name = request.params["bot_name"]
        response = self.state.bot_history(name, days)
        if response is None:  # listed via MQTT but its process is gone: the RPC times out
            time.sleep(max(timeout, 0.0))
            response = {"success": False,
                        "message": f"No response received from {name} within {timeout} seconds",
                        "timeout": True}
        return _Reply(200, {"status": "success", "response": response})

    # ---------------------------------------------------------------- archived bots

    def archived_status(self, request):
        db_path = request.params["db_path"]
        bot = self.state.archived_bot(db_path)
        filled = "Correct" if bot.fills else "Error - No records matched"
        empty = "Error - No records matched"
        status = {"db_name": f"{bot.name}.sqlite", "db_path": f"sqlite://{bot.db_file}",
                  "trade_fill": filled, "orders": filled, "order_status": filled,
                  "executors": empty, "controllers": empty, "positions": empty,
                  "general_status": False}
        return _Reply(200, {"db_path": db_path, "status": status, "healthy": False})

    def archived_summary(self, request):
        db_path = request.params["db_path"]
        bot = self.state.archived_bot(db_path)
        orders = self.state.archived_orders(bot)
        return _Reply(200, {
            "db_path": db_path, "total_orders": len(orders), "total_trades": len(orders),
            "total_executors": 0,
            "total_positions": 0, "total_controllers": 0,
            "trading_pairs": _unique(order["trading_pair"] for order in orders),
            "exchanges": _unique(order["connector_name"] for order in orders),
        })

    def archived_trades(self, request):
        return self._archived_page(request, "trades", self.state.archived_trades)

    def archived_orders(self, request):
        return self._archived_page(request, "orders", self.state.archived_orders, status_filter=True)

    def _archived_page(self, request, key: str, rows_of: Callable, status_filter: bool = False):
        inputs = _Inputs(request)
        limit = inputs.query("limit", _int, 100)
        offset = inputs.query("offset", _int, 0)
        status = inputs.query("status", _str, None) if status_filter else None
        inputs.check()
        db_path = request.params["db_path"]
        rows = rows_of(self.state.archived_bot(db_path))
        if status:
            rows = [row for row in rows if row["last_status"] == status]
        page, pagination = _page(rows, limit, offset)
        return _Reply(200, {"db_path": db_path, key: page, "pagination": pagination})

    # ---------------------------------------------------------------- sandbox controls

    def add_fault(self, request):
        inputs = _Inputs(request)
        body = inputs.body_model(_FAULT_BODY)
        inputs.check()
        try:
            self.state.set_fault(body["method"], body["path"], body["kind"], body["seconds"],
                                 body["times"])
        except re.error as exc:
            raise _detail(400, f"Invalid path regex: {exc}")
        except ValueError as exc:
            raise _detail(400, str(exc))
        return _Reply(201, {"message": "Fault added", "fault": {**body, "method": body["method"].upper()}})

    def clear_faults(self, request):
        return _Reply(200, {"message": "Faults cleared", "cleared": self.state.clear_faults()})

    def add_fills(self, request):
        inputs = _Inputs(request)
        body = inputs.body_model(_FILLS_BODY)
        inputs.check()
        name = request.params["bot_name"]
        try:
            added = self.state.inject_fills(name, body["count"], body["start_ts"], body["step_s"])
        except KeyError:
            raise _detail(404, f"Bot {name} not found or already archived")
        return _Reply(201, {"bot_name": name, "added": added})

    def spawn(self, request):
        inputs = _Inputs(request)
        body = inputs.body_model(_SPAWN_BODY)
        inputs.check()
        names = self.state.spawn_bots(body["count"], body["prefix"], body["account"],
                                      body["connector"], body["trading_pair"])
        return _Reply(201, {"bots": names})


def _enum_text(value: str) -> str:
    """How an f-string renders the API's ControllerType(str, Enum) member on Python >= 3.11."""
    return f"ControllerType.{value.upper()}"


def route_table(state: SandboxState) -> list[Route]:
    """Every route of the emulated API. Order matters where paths overlap, as in the real app."""
    api, R, call = _Endpoints(state), Route, partial(_call, state)
    return [
        R("GET", "/", _constant({"name": "Hummingbot API", "version": API_VERSION, "status": "running",
                                 "sandbox": True}), public=True),
        R("GET", "/docker/running", _constant(True)),
        R("GET", "/docker/active-containers",
          call("containers", first=("running",), read=_query("name_filter", None))),
        R("GET", "/docker/exited-containers",
          call("containers", first=("exited",), read=_query("name_filter", None))),
        R("POST", "/docker/stop-container/{container_name}", call("stop_container")),
        R("POST", "/docker/start-container/{container_name}", call("start_container")),
        R("GET", "/accounts/", call("list_accounts")),
        R("GET", "/accounts/{account_name}/credentials", call("list_credentials")),
        R("POST", "/accounts/add-account",
          call("add_account", _message(201, "Account added successfully."), read=_query("account_name"))),
        R("POST", "/accounts/delete-account",
          call("delete_account", _message(200, "Account deleted successfully."), read=_query("account_name"))),
        R("POST", "/accounts/delete-credential/{account_name}/{connector_name}",
          call("delete_credential", _message(200, "Credential deleted successfully."))),
        R("POST", "/accounts/add-credential/{account_name}/{connector_name}",
          call("add_credential", _message(201, "Connector credentials added successfully."),
               read=_body_object), body=True),
        R("GET", "/connectors/", _constant(list(CONNECTORS))),
        R("POST", "/portfolio/state", api.portfolio_state, body=True),
        R("GET", "/connectors/{connector_name}/config-map", api.connector_config_map),
        R("GET", "/connectors/{connector_name}/trading-rules", api.trading_rules),
        R("POST", "/market-data/prices", api.prices, body=True),
        R("GET", "/bot-orchestration/status", call("all_status", _status_data)),
        R("GET", "/bot-orchestration/mqtt", call("mqtt", _status_data)),
        R("GET", "/bot-orchestration/{bot_name}/status", call("bot_status", _status_data)),
        R("GET", "/bot-orchestration/{bot_name}/history", api.history),
        R("POST", "/bot-orchestration/start-bot", api.start_bot, body=True),
        R("POST", "/bot-orchestration/stop-bot", api.stop_bot, body=True),
        R("POST", "/bot-orchestration/stop-and-archive-bot/{bot_name}", api.stop_and_archive),
        R("POST", "/bot-orchestration/deploy-v2-controllers", api.deploy, body=True),
        R("GET", "/controllers/", call("list_controllers")),
        R("GET", "/controllers/configs/", call("list_configs")),
        R("GET", "/controllers/configs/{config_name}", call("get_config")),
        R("POST", "/controllers/configs/{config_name}",
          call("save_config", _message(201, "Configuration '{config_name}' saved successfully"),
               read=_body_object), body=True),
        R("DELETE", "/controllers/configs/{config_name}",
          call("delete_config", _message(200, "Configuration '{config_name}' deleted successfully"))),
        R("GET", "/controllers/{controller_type}/{controller_name}", api.get_controller),
        R("POST", "/controllers/{controller_type}/{controller_name}", api.save_controller, body=True),
        R("POST", "/controllers/{controller_type}/{controller_name}/config/validate", api.validate_config,
          body=True),
        R("GET", "/controllers/bots/{bot_name}/configs", call("bot_controller_configs")),
        R("POST", "/controllers/bots/{bot_name}/{controller_name}/config",
          call("update_bot_controller_config",
               _message(200, "Controller configuration for bot '{bot_name}' updated successfully"),
               read=_body_object), body=True),
        R("GET", "/archived-bots/", call("archived_paths")),
        R("GET", "/archived-bots/{db_path:path}/status", api.archived_status),
        R("GET", "/archived-bots/{db_path:path}/summary", api.archived_summary),
        R("GET", "/archived-bots/{db_path:path}/trades", api.archived_trades),
        R("GET", "/archived-bots/{db_path:path}/orders", api.archived_orders),
        R("GET", "/_sandbox/state", call("summary")),
        R("POST", "/_sandbox/faults", api.add_fault, body=True),
        R("DELETE", "/_sandbox/faults", api.clear_faults),
        R("POST", "/_sandbox/bots/{bot_name}/fills", api.add_fills, body=True),
        R("POST", "/_sandbox/spawn", api.spawn, body=True),
    ]
