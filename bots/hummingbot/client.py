"""The only code that talks HTTP to the Hummingbot API (hummingbot-api, HTTP Basic).

Every call goes through `HummingbotClient._call`: one `requests.Session`, a timeout on every
request, retries with backoff for idempotent GETs only, and every failure mapped to one
`HummingbotError` subclass. The upstream also reports failures inside HTTP 200 bodies; those are
turned into the same exceptions here, so callers never inspect raw bodies.
Facts about the upstream: docs/hummingbot-api.md (cited as §n below).
"""
from __future__ import annotations

import functools
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlsplit

import requests
import urllib3

from bots.hummingbot import targets
from bots.hummingbot.errors import (
    HummingbotAccountMissing,
    HummingbotAuthError,
    HummingbotBadResponse,
    HummingbotError,
    HummingbotNotConfigured,
    HummingbotNotFound,
    HummingbotRejected,
    HummingbotServerError,
    HummingbotTimeout,
    HummingbotUnreachable,
)

log = logging.getLogger(__name__)

RETRY_STATUSES = {502, 503, 504}
# A proxy in front of the API gave up or lost the connection: the API itself may have acted.
GATEWAY_STATUSES = {502, 504}


@dataclass(frozen=True)
class ServerInfo:
    name: str
    version: str
    sandbox: bool


@dataclass(frozen=True)
class BotStatus:
    name: str
    status: str
    performance: dict
    recently_active: bool
    source: str | None
    error_logs: list = field(default_factory=list)
    general_logs: list = field(default_factory=list)

    @property
    def is_trading(self) -> bool:
        """A stopped v2 bot keeps sending empty controller reports (§10): only figures mean trading.

        Empty is `{controller_id: {}}`, or a report whose own `performance` mapping is empty.
        """
        return any(isinstance(r, dict) and bool(r.get("performance")) for r in self.performance.values())


@dataclass(frozen=True)
class Deployment:
    unique_instance_name: str
    script_config: str
    controllers: list


@dataclass(frozen=True)
class Balance:
    """One token of one connector in Hummingbot's portfolio state (§12; floats there, Decimal here)."""

    token: str
    total: Decimal
    available: Decimal
    price: Decimal
    value: Decimal


@dataclass(frozen=True)
class TradingRule:
    """One pair's trading rules (§13; floats there, Decimal here). `max_order_size` None: no maximum."""

    min_order_size: Decimal
    max_order_size: Decimal | None
    min_price_increment: Decimal
    min_base_amount_increment: Decimal
    min_notional_size: Decimal
    supports_limit_orders: bool


@dataclass(frozen=True)
class TradingRules:
    """What `GET /connectors/{c}/trading-rules` said of the pairs asked: their rules, and the pairs the connector
    does not list with Hummingbot's reason (an error inside the 200, §13)."""

    rules: dict[str, TradingRule]
    unlisted: dict[str, str]


@dataclass(frozen=True)
class Fill:
    trade_id: str
    timestamp: datetime
    trading_pair: str
    side: str  # "buy" | "sell"
    price: Decimal
    amount: Decimal
    fee_quote: Decimal | None
    raw: dict


@dataclass(frozen=True)
class FillsPage:
    fills: list
    total: int
    has_more: bool


@dataclass(frozen=True)
class Container:
    id: str
    name: str
    status: str
    image: str


@dataclass(frozen=True)
class SettingsHint:
    """Where a server's URL and credentials are set, named in the errors that ask to check them."""

    url: str = "HUMMINGBOT_API_URL"
    credentials: str = "HUMMINGBOT_API_USERNAME/PASSWORD"


class HummingbotClient:
    def __init__(self, base_url: str, username: str, password: str, *, timeout: float = 10.0, retries: int = 2,
                 hint: SettingsHint = SettingsHint()):
        self.base_url = base_url.rstrip("/")
        self.shown_url = url_without_credentials(self.base_url)
        self.hint = hint
        self.timeout = timeout
        self.retries = retries
        self._session = requests.Session()
        self._session.auth = (username, password)

    def __repr__(self):
        # The password stays out of reprs, logs and tracebacks.
        return f"<HummingbotClient {self.shown_url}>"

    # --- server ---

    def server_info(self) -> ServerInfo:
        data = _expect(self._call("GET", "/", auth=False), dict, "GET /")
        name, version = data.get("name"), data.get("version")
        if not (isinstance(name, str) and isinstance(version, str)):
            raise HummingbotBadResponse("Hummingbot API: unexpected answer to GET / (no name and version).")
        return ServerInfo(name=name, version=version, sandbox=bool(data.get("sandbox")))

    def check(self) -> ServerInfo:
        """Reachability (`GET /`, no auth) plus one authenticated call, to tell 'down' from 'wrong password'."""
        info = self.server_info()
        self.list_accounts()
        return info

    # --- accounts and connectors (§5) ---

    def list_accounts(self) -> list[str]:
        return _expect(self._call("GET", "/accounts/"), list, "GET /accounts/")

    def add_account(self, account: str) -> None:
        self._call("POST", "/accounts/add-account", params={"account_name": account})

    def list_credentials(self, account: str) -> list[str]:
        """The connectors the account has keys for; HummingbotNotFound when Hummingbot has no such account."""
        path = f"/accounts/{_seg(account)}/credentials"
        return _expect(self._call("GET", path), list, path)

    def list_connectors(self) -> list[str]:
        return _expect(self._call("GET", "/connectors/"), list, "GET /connectors/")

    def connector_config_map(self, connector: str) -> dict:
        path = f"/connectors/{_seg(connector)}/config-map"
        return _expect(self._call("GET", path), dict, path)

    def add_credentials(self, account: str, connector: str, fields: dict) -> None:
        secrets = [str(v) for v in fields.values() if v]
        self._call(
            "POST", f"/accounts/add-credential/{_seg(account)}/{_seg(connector)}", json=fields, secrets=secrets
        )

    # --- balances (§12) ---

    def portfolio_state(self, *, accounts: list[str] | None = None, refresh: bool = False
                        ) -> dict[str, dict[str, list[Balance]]]:
        """{account: {connector: [Balance]}}; `refresh` makes Hummingbot ask the exchanges first (slow)."""
        path = "/portfolio/state"
        body = {"account_names": accounts, "connector_names": None, "skip_gateway": False, "refresh": refresh}
        data = _expect(self._call("POST", path, json=body), dict, path)
        return {
            account: {connector: [_balance(row) for row in _expect(rows, list, path)]
                      for connector, rows in _expect(connectors, dict, path).items()}
            for account, connectors in data.items()
        }

    # --- market data for pre-trade checks (§13) ---

    def prices(self, connector: str, pairs: list[str]) -> dict[str, Decimal]:
        """Last traded prices of `pairs`. A pair missing from the answer is left out: its price is unknown (§13).
        Unknown connector or unreachable exchange: HTTP 500 {"detail"}, raised as HummingbotServerError."""
        path = "/market-data/prices"
        data = _expect(self._call("POST", path, json={"connector_name": connector, "trading_pairs": list(pairs)}),
                       dict, path)
        prices = _expect(data.get("prices", {}), dict, path)
        known = {pair: _positive(prices[pair]) for pair in pairs if pair in prices}
        return {pair: price for pair, price in known.items() if price is not None}

    def trading_rules(self, connector: str, pairs: list[str]) -> TradingRules:
        """The rules of `pairs` on `connector`; a pair it does not list comes back in `unlisted` (HTTP 200, §13).
        Unknown connector: HTTP 404, raised as HummingbotNotFound."""
        path = f"/connectors/{_seg(connector)}/trading-rules"
        data = _expect(self._call("GET", path, params={"trading_pairs": list(pairs)}), dict, path)
        rules, unlisted = {}, {}
        for pair in pairs:
            entry = data.get(pair)
            if not isinstance(entry, dict) or "error" in entry:
                unlisted[pair] = str(entry.get("error")) if isinstance(entry, dict) else f"{pair} not in the answer"
            else:
                rules[pair] = _trading_rule(entry, path)
        return TradingRules(rules=rules, unlisted=unlisted)

    # --- controllers (§4) ---

    def upload_controller(self, controller_type: str, controller_name: str, content: str) -> None:
        path = f"/controllers/{_seg(controller_type)}/{_seg(controller_name)}"
        self._call("POST", path, json={"content": content, "type": controller_type})

    def controller_source(self, controller_type: str, controller_name: str) -> str:
        """The code Hummingbot stores as controllers/<type>/<name>.py, the module a config naming it imports (§4);
        HummingbotNotFound when there is none."""
        path = f"/controllers/{_seg(controller_type)}/{_seg(controller_name)}"
        content = _expect(self._call("GET", path), dict, f"GET {path}").get("content")
        return _expect(content, str, f"GET {path} (content)")

    def save_controller_config(self, config_name: str, config: dict) -> None:
        self._call("POST", f"/controllers/configs/{_seg(config_name)}", json=config)

    def validate_controller_config(self, controller_type: str, controller_name: str, config: dict) -> None:
        path = f"/controllers/{_seg(controller_type)}/{_seg(controller_name)}/config/validate"
        self._call("POST", path, json=config)

    def bot_controller_configs(self, bot_name: str) -> dict[str, dict]:
        """What a deployed bot holds: its controller configs by file stem (§4.1; 404 once archived)."""
        path = f"/controllers/bots/{_seg(bot_name)}/configs"
        configs = _expect(self._call("GET", path), list, f"GET {path}")
        return {
            config["_config_name"]: {key: value for key, value in config.items() if key != "_config_name"}
            for config in configs
            if isinstance(config, dict) and isinstance(config.get("_config_name"), str)
        }

    def update_bot_controller_config(self, bot_name: str, config_name: str, changes: dict) -> None:
        """Merge `changes` into the bot's own copy of a controller config. Hummingbot validates nothing here and a
        running bot applies only its is_updatable fields (§4.1): the caller validates first."""
        self._call("POST", f"/controllers/bots/{_seg(bot_name)}/{_seg(config_name)}/config", json=changes)

    # --- bot orchestration (§2, §3) ---

    def deploy_controllers(
        self,
        *,
        instance_name: str,
        credentials_profile: str,
        controllers: list[str],
        image: str,
        max_controller_drawdown_quote: float | None = None,
    ) -> Deployment:
        body = {
            "instance_name": instance_name,
            "credentials_profile": credentials_profile,
            "controllers_config": controllers,
            "image": image,
            "max_controller_drawdown_quote": max_controller_drawdown_quote,
            # Without headless mode the bot waits at its CLI instead of starting the strategy.
            "headless": True,
        }
        path = "/bot-orchestration/deploy-v2-controllers"
        try:
            data = _expect(self._call("POST", path, json=body), dict, path)
        except HummingbotServerError as exc:
            if f"'bots/credentials/{credentials_profile}'" in str(exc.detail) and "No such file" in str(exc.detail):
                raise HummingbotAccountMissing(credentials_profile, status=exc.status) from None
            raise
        if data.get("success") is not True:
            raise HummingbotRejected(f"Hummingbot refused the deploy: {_reason(data)}")
        try:
            return Deployment(
                unique_instance_name=data["unique_instance_name"],
                script_config=data.get("script_config_generated", ""),
                controllers=data.get("controllers_deployed", controllers),
            )
        except KeyError:
            raise HummingbotBadResponse(f"{path} answered success without unique_instance_name.") from None

    def start_bot(self, bot_name: str) -> None:
        """MQTT start. Hummingbot >= 2.13 ignores it while the API says success (§10): prefer restart_container."""
        self._mqtt_command("/bot-orchestration/start-bot", {"bot_name": bot_name})

    def stop_bot(self, bot_name: str) -> None:
        """Fire-and-forget over MQTT: success only means the message was published (§2)."""
        self._mqtt_command(
            "/bot-orchestration/stop-bot", {"bot_name": bot_name, "skip_order_cancellation": False}
        )

    def stop_and_archive_bot(self, bot_name: str) -> None:
        # The upstream default is skip_order_cancellation=true: always cancel the bot's orders.
        path = f"/bot-orchestration/stop-and-archive-bot/{_seg(bot_name)}"
        data = _expect(self._call("POST", path, params={"skip_order_cancellation": "false"}), dict, path)
        _raise_for_status_error(data)

    def bots_status(self) -> dict[str, BotStatus]:
        path = "/bot-orchestration/status"
        data = _expect(self._call("GET", path), dict, path)
        _raise_for_status_error(data)
        bots = _expect(data.get("data"), dict, path)
        return {name: _bot_status(name, entry) for name, entry in bots.items() if isinstance(entry, dict)}

    def bot_status(self, bot_name: str) -> BotStatus:
        path = f"/bot-orchestration/{_seg(bot_name)}/status"
        data = _expect(self._call("GET", path), dict, path)
        entry = _expect(data.get("data"), dict, path)
        # The router's 404 branch is dead code: an unknown bot is 200 with status not_found (§1).
        if entry.get("status") == "not_found":
            raise HummingbotNotFound(f"Hummingbot does not know bot '{bot_name}'.")
        return _bot_status(bot_name, entry)

    def bot_history(self, bot_name: str, *, days: int) -> list[Fill]:
        """Fills of a live bot over MQTT. `days=0` means 'since the bot's last boot' (§10): use >= 1."""
        path = f"/bot-orchestration/{_seg(bot_name)}/history"
        # The upstream waits `timeout` s for the bot's MQTT reply; keep it inside our own HTTP timeout.
        upstream_wait = max(1.0, self.timeout * 0.8)
        data = self._call("GET", path, params={"days": days, "timeout": upstream_wait})
        reply = _unwrap_mqtt_response(_expect(data, dict, path), f"history of '{bot_name}'")
        payload = reply.get("data", reply) if isinstance(reply, dict) else None
        trades = payload.get("trades") if isinstance(payload, dict) else None
        if not isinstance(trades, list):
            raise HummingbotBadResponse(f"Hummingbot API: unexpected answer to {path} (the bot's reply has no trades "
                                        "list).")
        return [_fill_from_history(t) for t in trades]

    # --- docker (§7) ---

    def stop_container(self, name: str) -> None:
        self._docker_command(f"/docker/stop-container/{_seg(name)}")

    def start_container(self, name: str) -> None:
        self._docker_command(f"/docker/start-container/{_seg(name)}")

    def active_containers(self, name_filter: str | None = None) -> list[Container]:
        return self._containers("/docker/active-containers", name_filter)

    def exited_containers(self, name_filter: str | None = None) -> list[Container]:
        return self._containers("/docker/exited-containers", name_filter)

    # --- archived bots (§6) ---

    def archived_bots(self) -> list[str]:
        return _expect(self._call("GET", "/archived-bots/"), list, "GET /archived-bots/")

    def archived_trades(self, db_path: str, *, limit: int = 500, offset: int = 0) -> FillsPage:
        path = f"/archived-bots/{quote(db_path, safe='/')}/trades"
        data = _expect(self._call("GET", path, params={"limit": limit, "offset": offset}), dict, path)
        trades = _expect(data.get("trades"), list, path)
        pagination = data.get("pagination") or {}
        return FillsPage(
            fills=[_fill_from_archive(t) for t in trades],
            total=int(pagination.get("total", len(trades))),
            has_more=bool(pagination.get("has_more")),
        )

    # --- the one HTTP seam ---

    def longest_call_seconds(self, method: str) -> float:
        """How long one call can take at most: each attempt's connect and read timeouts and the pauses between."""
        attempts = self._attempts(method)
        return attempts * (self._timeouts[0] + self._timeouts[1]) + sum(map(_backoff, range(1, attempts)))

    @property
    def _timeouts(self) -> tuple[float, float]:
        return min(3.0, self.timeout), self.timeout

    def _attempts(self, method: str) -> int:
        return 1 + (self.retries if method == "GET" else 0)

    def _call(self, method, path, *, params=None, json=None, auth=True, secrets=()):
        attempts = self._attempts(method)
        for attempt in range(1, attempts + 1):
            try:
                return self._send(method, path, params=params, json=json, auth=auth, secrets=secrets)
            except HummingbotError as exc:
                retryable = isinstance(exc, HummingbotUnreachable) and not isinstance(exc, HummingbotTimeout)
                retryable = retryable or exc.status in RETRY_STATUSES
                if attempt == attempts or not retryable:
                    raise
                log.warning("hummingbot %s %s failed (%s), retry %d", method, path, exc.code, attempt)
                time.sleep(_backoff(attempt))

    def _send(self, method, path, *, params, json, auth, secrets):
        started = time.monotonic()
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                params=params,
                json=json,
                auth=None if auth else _without_auth,
                timeout=self._timeouts,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise HummingbotTimeout(
                f"Hummingbot API at {self.shown_url} did not answer {method} {path} within {self.timeout:g} s "
                "(HUMMINGBOT_TIMEOUT).",
                outcome_unknown=not isinstance(exc, requests.ConnectTimeout),
            ) from None
        except requests.ConnectionError as exc:
            raise HummingbotUnreachable(
                f"Cannot reach the Hummingbot API at {self.shown_url} ({method} {path}): connection refused or "
                f"dropped. Is the server running, and is {self.hint.url} right?",
                outcome_unknown=_sent_before_failing(exc),
            ) from None
        log.info(
            "hummingbot %s %s -> %s in %.0f ms", method, path, response.status_code, 1000 * (time.monotonic() - started)
        )
        return _parse(response, method, path, secrets, self.hint, self.shown_url)

    def _mqtt_command(self, path, body):
        data = _expect(self._call("POST", path, json=body), dict, path)
        _unwrap_mqtt_response(data, f"{path.rsplit('/', 1)[-1]} for '{body['bot_name']}'")

    def _docker_command(self, path):
        # Both answer JSON null on success and an error *string* with HTTP 200 on failure (§7).
        result = self._call("POST", path)
        if isinstance(result, dict):
            _raise_for_status_error(result)  # the failure shape of §1 that other routes answer
        if result is not None:
            what = path.split('/')[2].replace('-', ' ')
            raise HummingbotRejected(f"Hummingbot could not {what}: {_expect(result, str, path)}")

    def _containers(self, path, name_filter):
        params = {"name_filter": name_filter} if name_filter else None
        data = self._call("GET", path, params=params)
        if isinstance(data, str):  # a docker failure, as a bare JSON string (§1)
            raise HummingbotRejected(f"Hummingbot could not list containers: {data}")
        data = _expect(data, list, path)
        return [
            Container(id=c.get("id", ""), name=c.get("name", ""), status=c.get("status", ""), image=c.get("image", ""))
            for c in data
            if isinstance(c, dict)
        ]


def _backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` of a retried GET."""
    return 0.2 * 2 ** (attempt - 1)


def _sent_before_failing(exc: requests.ConnectionError) -> bool:
    """Refused or unresolvable: nothing was sent. Dropped after connecting: the server may have acted."""
    cause = exc.args[0] if exc.args else None
    cause = getattr(cause, "reason", cause)  # urllib3's MaxRetryError wraps the real cause
    return not isinstance(cause, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError))


def _without_auth(request):
    """Auth hook that leaves the request as is: `GET /` is the one route without Basic auth."""
    return request


def _seg(value: str) -> str:
    """A path segment, percent-encoded so that no value can change the path."""
    return quote(str(value), safe="")


def _parse(response, method, path, secrets, hint: SettingsHint, shown_url: str):
    status = response.status_code
    where = f"{method} {path}"
    if status == 401:
        raise HummingbotAuthError(
            f"Hummingbot API refused the credentials (HTTP 401): check {hint.credentials}.",
            status=status,
        )
    if status < 400:
        try:
            return response.json()
        except ValueError:
            raise _unexpected_answer(HummingbotBadResponse, response, where, hint, shown_url) from None
    detail = _error_detail(response)
    if detail is None:
        kind = HummingbotNotFound if status == 404 else HummingbotRejected if status < 500 else HummingbotServerError
        raise _unexpected_answer(kind, response, where, hint, shown_url)
    detail = _scrub(detail, secrets)
    if status == 404:
        raise HummingbotNotFound(f"Hummingbot API: not found ({where}): {detail}", status=status, detail=detail)
    if status == 422:
        raise HummingbotRejected(f"Hummingbot API rejected {where}: {detail}", status=status, detail=detail)
    if status < 500:
        raise HummingbotRejected(f"Hummingbot API refused {where} (HTTP {status}): {detail}", status=status, detail=detail)
    raise HummingbotServerError(
        f"Hummingbot API failed on {where} (HTTP {status}): {detail}. It answers this way to names outside "
        "[A-Za-z0-9_-], unknown connectors or a missing docker engine; see its logs.",
        status=status,
        detail=detail,
        outcome_unknown=status in GATEWAY_STATUSES,
    )


# The body of Hummingbot's unhandled exceptions and of its crashing validation handler (§1).
INTERNAL_SERVER_ERROR = "Internal Server Error"


def _error_detail(response) -> str | None:
    """The text of one of Hummingbot's own error shapes (§1): FastAPI's `{"detail": str}`, its validation
    `{"detail": [{loc, msg, ...}]}`, or the bare text `Internal Server Error` of a 500. None for anything else: a URL
    pointed at another service must not read that service's answers back through our messages (issue 15)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text if response.status_code == 500 and text == INTERNAL_SERVER_ERROR else None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and detail and all(_is_validation_error(item) for item in detail):
        return "; ".join(f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in detail)
    return None


def _is_validation_error(item) -> bool:
    return (isinstance(item, dict) and isinstance(item.get("msg"), str) and isinstance(item.get("loc"), list)
            and all(isinstance(part, (str, int)) for part in item["loc"]))


def _unexpected_answer(kind, response, where, hint: SettingsHint, shown_url: str) -> HummingbotError:
    """An answer in none of Hummingbot's shapes: its status only. The body may be anything the server at that URL
    holds, so it is neither shown nor logged; its content type goes to the log."""
    status = response.status_code
    log.warning("hummingbot %s -> HTTP %s, %s: not an answer of the Hummingbot API", where, status,
                response.headers.get("content-type", "no content type")[:100])
    return kind(
        f"Hummingbot API: unexpected answer from {shown_url} (HTTP {status} on {where}). "
        f"Is {hint.url} pointing at the Hummingbot API?",
        status=status, outcome_unknown=kind is HummingbotBadResponse or status in GATEWAY_STATUSES,
    )


def _scrub(text: str, secrets) -> str:
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _expect(value, kind, where):
    """The value, when it has the type Hummingbot answers there; its content is never quoted (issue 15)."""
    if not isinstance(value, kind):
        raise HummingbotBadResponse(
            f"Hummingbot API: unexpected answer to {where} ({type(value).__name__}, expected {kind.__name__})."
        )
    return value


def _reason(data: dict, missing: str = "no reason given") -> str:
    """The `message` of a failure Hummingbot wraps in HTTP 200 (§1); only a string is its shape."""
    message = data.get("message")
    return message if isinstance(message, str) and message else missing


def _raise_for_status_error(data: dict):
    # e.g. stop-and-archive of a bot that is not active: HTTP 200 {"status": "error", "message": ...} (§1).
    if data.get("status") == "error":
        raise HummingbotRejected(f"Hummingbot refused: {_reason(data)}")


def _unwrap_mqtt_response(data: dict, what: str):
    """start/stop/history answer `{"status":"success","response":{"success":bool,...}}` even on failure (§1)."""
    _raise_for_status_error(data)
    response = data.get("response")
    if not isinstance(response, dict):
        raise HummingbotBadResponse(f"Hummingbot API: unexpected answer to {what} (no response object).")
    if response.get("success") is True:
        return response.get("data")
    message = _reason(response, "no reason given (is the MQTT broker connected?)")
    if response.get("timeout"):
        raise HummingbotTimeout(f"Hummingbot: the bot did not answer {what}: {message}")
    if "not found" in message.lower():
        raise HummingbotNotFound(f"Hummingbot: {message}")
    raise HummingbotRejected(f"Hummingbot refused {what}: {message}")


def _bot_status(name: str, entry: dict) -> BotStatus:
    performance = entry.get("performance")
    return BotStatus(
        name=name,
        status=str(entry.get("status", "")),
        performance=performance if isinstance(performance, dict) else {},
        recently_active=bool(entry.get("recently_active")),
        source=entry.get("source"),
        error_logs=entry.get("error_logs") or [],
        general_logs=entry.get("general_logs") or [],
    )


def _decimal(value, what) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise HummingbotBadResponse(f"Hummingbot sent a fill with a non-numeric {what}.") from None
    if not number.is_finite():
        raise HummingbotBadResponse(f"Hummingbot sent a fill with a non-finite {what}.")
    return number


def _timestamp(value) -> datetime:
    """Hummingbot fill timestamps are epoch milliseconds."""
    return datetime.fromtimestamp(float(_decimal(value, "timestamp")) / 1000, tz=timezone.utc)


def _side(value) -> str:
    side = str(value).lower()
    if side not in ("buy", "sell"):
        raise HummingbotBadResponse("Hummingbot sent a fill with an unknown side.")
    return side


def _balance(row) -> Balance:
    row = _expect(row, dict, "POST /portfolio/state")
    try:
        return Balance(token=str(row["token"]), total=_decimal(row["units"], "units"),
                       available=_decimal(row.get("available_units", row["units"]), "available_units"),
                       price=_decimal(row.get("price") or 0, "price"), value=_decimal(row.get("value") or 0, "value"))
    except KeyError as exc:
        raise HummingbotBadResponse(f"POST /portfolio/state: a balance without {exc.args[0]}.") from None


def _positive(value) -> Decimal | None:
    """A price as Hummingbot sends it (a float); None when it is not a positive number (no trade yet)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if number.is_finite() and number > 0 else None


def _trading_rule(entry: dict, where: str) -> TradingRule:
    def number(key):
        value = _positive(entry.get(key))
        if value is None and entry.get(key) not in (0, 0.0):
            raise HummingbotBadResponse(f"{where}: {key} is not a number: {entry.get(key)!r}")
        return value or Decimal(0)

    max_size = entry.get("max_order_size")
    return TradingRule(
        min_order_size=number("min_order_size"),
        max_order_size=None if max_size is None else number("max_order_size"),
        min_price_increment=number("min_price_increment"),
        min_base_amount_increment=number("min_base_amount_increment"),
        min_notional_size=number("min_notional_size"),
        supports_limit_orders=entry.get("supports_limit_orders") is not False,
    )


def _fill_from_history(trade: dict) -> Fill:
    """A TradeFill from the bot's history reply (hummingbot model/trade_fill.py)."""
    try:
        price = _decimal(trade["price"], "price")
        amount = _decimal(trade["quantity"], "quantity")
        fee = (trade.get("raw_json") or {}).get("trade_fee") or {}
        return Fill(
            trade_id=str(trade["trade_id"]),
            timestamp=_timestamp(trade["trade_timestamp"]),
            trading_pair=str(trade.get("symbol", "")),
            side=_side(trade["trade_type"]),
            price=price,
            amount=amount,
            fee_quote=_fee_in_quote(fee, price, amount, trade.get("quote_asset")),
            raw=trade,
        )
    except (KeyError, AttributeError) as exc:
        raise HummingbotBadResponse(f"Hummingbot sent a fill without {exc}.") from None


def _fee_in_quote(fee: dict, price: Decimal, amount: Decimal, quote_asset) -> Decimal | None:
    """Percent fees are charged on the notional; flat fees count only when paid in the quote asset."""
    try:
        total = Decimal(str(fee.get("percent") or 0)) * price * amount
        for flat in fee.get("flat_fees") or []:
            if flat.get("token") == quote_asset:
                total += Decimal(str(flat.get("amount") or 0))
    except (InvalidOperation, AttributeError, TypeError):
        return None
    return total


def _fill_from_archive(trade: dict) -> Fill:
    """A TradeFill row from the archived bot's sqlite, as /archived-bots/{db}/trades gives it (§6)."""
    try:
        fee_quote = trade.get("trade_fee_in_quote")
        return Fill(
            trade_id=str(trade["exchange_trade_id"]),
            timestamp=_timestamp(trade["timestamp"]),
            trading_pair=str(trade.get("trading_pair", "")),
            side=_side(trade["trade_type"]),
            price=_decimal(trade["price"], "price"),
            amount=_decimal(trade["amount"], "amount"),
            fee_quote=None if fee_quote is None else _decimal(fee_quote, "fee"),
            raw=trade,
        )
    except (KeyError, AttributeError) as exc:
        raise HummingbotBadResponse(f"Hummingbot sent an archived fill without {exc}.") from None


def get_client(server=None) -> HummingbotClient:
    """The process-wide client of one Hummingbot server (a `HummingbotServer`; None: the default one), one Session
    per server so connections are reused. Raises HummingbotNotConfigured, sending nothing, when its password variable
    is unset or its URL is outside HUMMINGBOT_URL_ALLOWLIST."""
    from django.conf import settings

    url, username, password, hint = _server_settings(server)
    return _client_for((url, username, password, settings.HUMMINGBOT_TIMEOUT, settings.HUMMINGBOT_RETRIES, hint,
                        tuple(settings.HUMMINGBOT_URL_ALLOWLIST)))


def _server_settings(server) -> tuple[str, str, str, SettingsHint]:
    """URL, username, password of a server and where they are set. A blank URL is the zero-configuration server of
    HUMMINGBOT_API_*; any other reads its password from the environment variable its name gives, which nobody
    chooses, so no row can send another variable's value anywhere (issue 15, docs/design.md §10)."""
    from django.conf import settings

    if server is None or not server.url:
        return (settings.HUMMINGBOT_API_URL, settings.HUMMINGBOT_API_USERNAME, settings.HUMMINGBOT_API_PASSWORD,
                SettingsHint())
    variable = server.password_variable
    password = os.environ.get(variable)
    if password is None:
        raise HummingbotNotConfigured(
            f"Hummingbot server '{server.name}': the environment variable {variable} (its password) "
            "is not set in this process."
        )
    hint = SettingsHint(
        url=f"the URL of Hummingbot server '{server.name}'",
        credentials=f"the username of Hummingbot server '{server.name}' and its password in {variable}")
    return server.url.rstrip("/"), server.username or settings.HUMMINGBOT_API_USERNAME, password, hint


def shown_server(server) -> str:
    """A server as people may read it, its name and URL: credentials written into the URL stay out of the output."""
    from django.conf import settings

    return f"{server.name} ({url_without_credentials(server.url or settings.HUMMINGBOT_API_URL)})"


def url_without_credentials(url: str) -> str:
    """A URL as people may read it: credentials written into it stay out."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


@functools.lru_cache(maxsize=16)
def _client_for(key) -> HummingbotClient:
    url, username, password, timeout, retries, hint, allowlist = key
    refused = targets.refusal(url, allowlist)
    if refused:  # not cached: checked again on the next call
        raise HummingbotNotConfigured(f"Not calling {url_without_credentials(url)}: {refused} ({hint.url})")
    return HummingbotClient(url, username, password, timeout=timeout, retries=retries, hint=hint)
