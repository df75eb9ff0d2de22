"""The emulated upstream: accounts, controllers, bots, fills and archives, all timed off one injectable clock."""

from __future__ import annotations

import copy
import hashlib
import itertools
import math
import posixpath
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, NamedTuple
from zoneinfo import ZoneInfo

from .config import (
    _ARCHIVED_ROOT,
    _BLINK_SECONDS,
    _BOTS_ROOT,
    _FALLBACK_MARKET,
    _FEE_RATE,
    _MICRO,
    _MID_PRICES,
    FAULT_KINDS,
    STOCK_CONTROLLERS,
    SandboxConfig,
    _config_map,
)
from . import market
from .portfolio import SandboxPortfolio
from .replies import _detail, _validate_safe_name
from .validation import (
    _OPAQUE,
    _STOCK_CLASSES,
    _ConfigClass,
    _pydantic_text,
    _uploaded_config_class,
    _validate,
)

# --------------------------------------------------------------------------- fills and performance


class Fill(NamedTuple):
    trade_id: str
    order_id: str
    controller_id: str
    connector: str
    trading_pair: str
    side: str  # BUY | SELL
    price: str  # Decimal text, at most 6 decimals (what the bot's sqlite keeps)
    quantity: str
    timestamp_ms: int
    order_type: str


def _fill_randomness(key: str) -> tuple[list[float], str]:
    """Four uniform floats and a 16-hex trade id, all derived from `key`."""
    digest = hashlib.blake2b(key.encode(), digest_size=40).digest()
    floats = [int.from_bytes(digest[i:i + 8], "big") / 2 ** 64 for i in range(0, 32, 8)]
    return floats, digest[32:].hex()


def _decimal_text(value: float, significant: int) -> str:
    number = Decimal(f"{value:.{significant}g}")
    if number.as_tuple().exponent < -6:
        number = number.quantize(_MICRO)
    return format(number.normalize(), "f")


class _Performance:
    """Average-cost PnL of one controller, updated fill by fill (status stays O(1) per bot)."""

    __slots__ = ("volume", "position", "avg_price", "realized", "last_price")

    def __init__(self):
        self.volume = self.position = self.avg_price = self.realized = self.last_price = 0.0

    def add(self, side: str, price: float, quantity: float):
        self.volume += price * quantity
        self.last_price = price
        signed = quantity if side == "BUY" else -quantity
        if self.position == 0 or (self.position > 0) == (signed > 0):
            held = abs(self.position)
            self.avg_price = (self.avg_price * held + price * quantity) / (held + quantity)
        else:
            closed = min(quantity, abs(self.position))
            self.realized += closed * (price - self.avg_price) * (1 if self.position > 0 else -1)
            if quantity > closed:  # the position flips: the remainder opens at this price
                self.avg_price = price
        self.position += signed

    def report(self, budget: float | None) -> dict:
        unrealized = self.position * (self.last_price - self.avg_price)
        total = self.realized + unrealized

        def pct(value):
            return round(value / budget, 8) if budget else 0.0
        return {
            "realized_pnl_quote": round(self.realized, 8),
            "unrealized_pnl_quote": round(unrealized, 8),
            "unrealized_pnl_pct": pct(unrealized),
            "realized_pnl_pct": pct(self.realized),
            "global_pnl_quote": round(total, 8),
            "global_pnl_pct": pct(total),
            "volume_traded": round(self.volume, 8),
            "positions_summary": [],
            "close_type_counts": {},
        }
# --------------------------------------------------------------------------- bots


@dataclass(frozen=True)
class _Slot:
    """One entry of a bot's controllers_config, with the config copied at deploy time."""

    file_name: str  # as listed in the generated script config, always with .yml
    config: dict | None  # None: the file did not exist when the bot was deployed

    @property
    def controller_id(self) -> str:
        given = (self.config or {}).get("id")
        return given if isinstance(given, str) and given else self.file_name[:-4]

    @property
    def market(self) -> tuple[str, str]:
        config = self.config or {}
        connector, pair = config.get("connector_name"), config.get("trading_pair")
        if isinstance(connector, str) and isinstance(pair, str):
            return connector, pair
        return _FALLBACK_MARKET

    @property
    def budget(self) -> float | None:
        try:
            amount = float((self.config or {}).get("total_amount_quote"))
        except (TypeError, ValueError):
            return None
        return amount if amount > 0 else None


@dataclass
class _Archive:
    started_at: float
    skip_order_cancellation: bool
    archive_locally: bool
    s3_bucket: str | None


@dataclass(eq=False)
class _Bot:
    name: str
    account: str
    image: str
    headless: bool
    drawdowns: dict
    slots: list[_Slot]
    load_error: str | None  # why v2_with_controllers cannot start; fixed at deploy time
    container_id: str
    deployed_at: float
    container: str = "running"  # docker state while the container exists: running | exited
    container_stopped_at: float = 0.0
    strategy: str = "failed"  # running | stopped (stop-bot) | failed (config did not load)
    boot_time: float = 0.0
    run_since: float | None = None  # start of the current stretch that produces fills
    run_fills: int = 0  # automatic fills already made in that stretch
    fills: list[Fill] = field(default_factory=list)
    performance: dict[str, _Performance] = field(default_factory=dict)
    general_logs: list[dict] = field(default_factory=list)
    error_logs: list[dict] = field(default_factory=list)
    stop_requests: list[dict] = field(default_factory=list)
    archive: _Archive | None = None
    history_requests: int = 0

    @property
    def db_path(self) -> str:
        """As GET /archived-bots/ lists it."""
        return f"bots/archived/{self.name}/data/{self.name}.sqlite"

    @property
    def db_file(self) -> str:
        """Where the real server would keep that file."""
        return f"{_ARCHIVED_ROOT}/{self.name}/data/{self.name}.sqlite"


class _Presence(NamedTuple):
    active: bool  # in BotsOrchestrator.active_bots
    source: str | None  # docker | mqtt
    container: str | None  # running | exited | None (removed)
    phase: str | None  # archive phase: stopping | lingering | archived


def _log(level: str, message: str, timestamp: float, logger: str) -> dict:
    return {"level_name": level, "msg": message, "timestamp": timestamp, "logger_name": logger}


def _container_id(seed: int, name: str) -> str:
    return hashlib.blake2b(f"{seed}|container|{name}".encode(), digest_size=32).hexdigest()


def _docker_not_found(name: str) -> str:
    return (f"404 Client Error for http+docker://localhost/v1.47/containers/{name}/json: "
            f'Not Found ("No such container: {name}")')


def _docker_conflict(name: str, container_id: str) -> str:
    return (f"409 Client Error for http+docker://localhost/v1.47/containers/create?name={name}: "
            f'Conflict ("Conflict. The container name "/{name}" is already in use by container '
            f'"{container_id}". You have to remove (or rename) that container to be able to '
            'reuse that name.")')


def _sorted_keys(value: Any) -> Any:
    """Configs go through yaml.dump on the real server, which sorts mapping keys."""
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def _split_pair(pair: str) -> tuple[str, str]:
    base, _, quote = pair.partition("-")
    return base, quote


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern
    kind: str
    seconds: float
    remaining: int | None
    # Tests synchronise on these instead of sleeping: a request took the fault; it has been handled
    # (a delayed request still acts after its client gave up, like the real server); `released`
    # ends a delay early.
    arrived: threading.Event = field(default_factory=threading.Event)
    handled: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def describe(self) -> dict:
        return {"method": self.method, "path": self.pattern.pattern, "kind": self.kind,
                "seconds": self.seconds, "times": self.remaining}
# --------------------------------------------------------------------------- state


class SandboxState:
    """Everything the emulated server knows. Every public method is thread-safe."""

    # What `--state-file` leaves out (sandbox/persistence.py saves every other attribute): settings come from
    # the command line, faults are injected per run, and spawn numbering skips names already taken.
    NOT_PERSISTED = frozenset({"config", "clock", "lock", "faults", "_spawned"})

    def __init__(self, config: SandboxConfig | None = None,
                 clock: Callable[[], float] | None = None):
        self.config = config or SandboxConfig()
        self.clock = clock or time.time
        self.lock = threading.RLock()
        self.accounts: dict[str, set[str]] = {"master_account": set()}
        self.portfolio = SandboxPortfolio()
        self.controller_configs: dict[str, dict] = {}
        self.uploaded_controllers: dict[tuple[str, str], str] = {}
        self.bots: dict[str, _Bot] = {}
        self.faults: list[_Fault] = []
        self._mid_prices: dict[str, float] = {}
        self._spawned = itertools.count(1)

    def now(self) -> float:
        return self.clock()

    # ---------------------------------------------------------------- test and bench helpers

    def inject_fills(self, bot_name: str, count: int, start_ts: float | None = None,
                     step_s: float = 1.0) -> int:
        """Append `count` deterministic fills stamped start_ts + i*step_s (default start: now)."""
        with self.lock:
            now = self._sync()
            bot = self.bots.get(bot_name)
            if bot is None or self._phase(bot, now) in ("lingering", "archived"):
                raise KeyError(f"Bot {bot_name} not found or already archived")
            start = now if start_ts is None else start_ts
            for index in range(count):
                self._append_fill(bot, start + index * step_s)
            return count

    def spawn_bots(self, n: int, prefix: str = "bench", account: str = "master_account",
                   connector: str = _FALLBACK_MARKET[0],
                   trading_pair: str = _FALLBACK_MARKET[1]) -> list[str]:
        """Create `n` running pmm_v1 bots directly, as if deployed; returns their unique names."""
        with self.lock:
            now = self._sync()
            stamp = self._stamp(now)
            names = []
            for _ in range(n):
                name = f"{prefix}-{next(self._spawned)}-{stamp}"
                while name in self.bots:
                    name = f"{prefix}-{next(self._spawned)}-{stamp}"
                config = {
                    "id": name, "controller_name": "pmm_v1", "controller_type": "generic",
                    "connector_name": connector, "trading_pair": trading_pair,
                    "order_amount": 1000, "buy_spreads": [0.01], "sell_spreads": [0.01],
                    "manual_kill_switch": False, "initial_positions": [],
                }
                self._create_bot(name, account, "hummingbot/hummingbot:latest", True, {},
                                 [_Slot(f"{name}.yml", config)], now)
                names.append(name)
            return names

    def set_fault(self, method: str, path_regex: str, kind: str, seconds: float = 0.0,
                  times: int | None = None) -> _Fault:
        """Make requests matching `method` ("*" = any) and `path_regex` (re.search on the path,
        no query string) misbehave; `times=None` means until cleared."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"Unknown fault kind {kind!r}; expected one of {list(FAULT_KINDS)}")
        if times is not None and times < 1:
            raise ValueError("times must be None or >= 1")
        if not (math.isfinite(seconds) and seconds >= 0):  # a delay waits this long on every match
            raise ValueError("seconds must be a finite number >= 0")
        fault = _Fault(method.upper(), re.compile(path_regex), kind, float(seconds), times)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> int:
        with self.lock:
            cleared, self.faults = len(self.faults), []
            return cleared

    def take_fault(self, method: str, path: str) -> _Fault | None:
        """The first fault matching this request, consumed once."""
        with self.lock:
            for fault in self.faults:
                if fault.method in ("*", method) and fault.pattern.search(path):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self.faults.remove(fault)
                    return fault
            return None

    def summary(self) -> dict:
        """What GET /_sandbox/state shows."""
        with self.lock:
            now = self._sync()
            return {
                "sandbox": True,
                "now": now,
                "config": {"seed": self.config.seed, "archive_delay": self.config.archive_delay,
                           "mqtt_linger": self.config.mqtt_linger,
                           "fill_interval": self.config.fill_interval},
                "accounts": {name: sorted(connectors) for name, connectors in self.accounts.items()},
                "controller_configs": sorted(self.controller_configs),
                "uploaded_controllers": [f"{kind}/{name}" for kind, name in self.uploaded_controllers],
                "bots": {bot.name: self._bot_summary(bot, now) for bot in self.bots.values()},
                "archived_bots": self._archived_paths(now),
                "faults": [fault.describe() for fault in self.faults],
            }

    def _bot_summary(self, bot: _Bot, now: float) -> dict:
        presence = self._presence(bot, now)
        connector, pair = bot.slots[0].market if bot.slots else (None, None)
        archive = None
        if bot.archive is not None:
            archive = {"requested_at": bot.archive.started_at, "phase": presence.phase,
                       "skip_order_cancellation": bot.archive.skip_order_cancellation,
                       "archive_locally": bot.archive.archive_locally,
                       "s3_bucket": bot.archive.s3_bucket}
        return {
            "account": bot.account, "image": bot.image, "headless": bot.headless,
            "deployed_at": bot.deployed_at, "boot_time": bot.boot_time,
            "container": presence.container or "removed", "strategy": bot.strategy,
            "active": presence.active, "source": presence.source,
            "connector": connector, "trading_pair": pair,
            "controllers": [slot.file_name for slot in bot.slots],
            "load_error": bot.load_error, "fills": len(bot.fills), **bot.drawdowns,
            "stop_requests": list(bot.stop_requests), "archive": archive,
        }

    # ---------------------------------------------------------------- accounts and connectors

    def list_accounts(self) -> list[str]:
        with self.lock:
            return list(self.accounts)

    def add_account(self, name: str):
        _validate_safe_name(name, "account name")
        with self.lock:
            if name in self.accounts:
                raise _detail(400, "Account already exists.")
            self.accounts[name] = set()

    def delete_account(self, name: str):
        _validate_safe_name(name, "account name")
        if name == "master_account":
            raise _detail(400, "Cannot delete master account.")
        with self.lock:
            if self.accounts.pop(name, None) is None:
                raise _detail(404, f"Folder '{name}' not found in 'credentials'")

    def list_credentials(self, account: str) -> list[str]:
        _validate_safe_name(account, "account name")
        with self.lock:
            if account not in self.accounts:
                raise _detail(404, f"Directory 'credentials/{account}/connectors' not found")
            return sorted(self.accounts[account])

    def add_credential(self, account: str, connector: str, credentials: dict):
        """Only the fact that credentials exist is kept, never their values."""
        _validate_safe_name(account, "account name")
        _validate_safe_name(connector, "connector name")
        fields = _config_map(connector)
        if fields is None:
            raise _detail(400, f"Connector '{connector}' not found")
        missing = [name for name in fields if not str(credentials.get(name) or "").strip()]
        if missing:
            raise _detail(400, f"Missing required credential(s) for {connector}: {', '.join(missing)}")
        with self.lock:
            if account not in self.accounts:
                raise _detail(400, f"Failed to authenticate for {account}")
            self.accounts[account].add(connector)
            self.portfolio.seed(account, connector)

    def delete_credential(self, account: str, connector: str):
        _validate_safe_name(account, "account name")
        _validate_safe_name(connector, "connector name")
        with self.lock:
            self.accounts.get(account, set()).discard(connector)

    # ---------------------------------------------------------------- controllers and configs

    def list_controllers(self) -> dict[str, list[str]]:
        with self.lock:
            result = {kind: set(names) for kind, names in STOCK_CONTROLLERS.items()}
            for kind, name in self.uploaded_controllers:
                result[kind].add(name)
            return {kind: sorted(names) for kind, names in result.items()}

    def get_controller(self, kind: str, name: str) -> dict:
        with self.lock:
            content = self.uploaded_controllers.get((kind, name))
        if content is None and name in STOCK_CONTROLLERS[kind]:
            content = f'"""{name}: stock hummingbot-api controller (source not shipped by the sandbox)."""\n'
        if content is None:
            raise _detail(404, f"Controller '{name}' not found in '{kind}'")
        return {"name": name, "type": kind, "content": content}

    def save_controller(self, kind: str, name: str, content: str):
        with self.lock:
            self.uploaded_controllers[(kind, name)] = content

    def has_module(self, kind: str, name: str) -> bool:
        """controllers/<kind>/<name>.py exists: uploaded, or shipped with the server."""
        with self.lock:
            return (kind, name) in self.uploaded_controllers or name in STOCK_CONTROLLERS.get(kind, ())

    def config_class(self, kind: str, name: str) -> _ConfigClass | None:
        """The config class the API or a bot would import; None when there is no such module or it defines none."""
        if not isinstance(kind, str) or not isinstance(name, str):
            return None
        with self.lock:
            content = self.uploaded_controllers.get((kind, name))
        if content is not None:
            return _uploaded_config_class(content)
        if name in STOCK_CONTROLLERS.get(kind, ()):
            return _STOCK_CLASSES.get((kind, name), _ConfigClass(_OPAQUE, _OPAQUE))
        return None

    def save_config(self, name: str, config: dict):
        if not name or "/" in name or "\\" in name:
            raise _detail(400, f"Invalid file name: '{name}.yml'")
        with self.lock:
            self.controller_configs[name] = _sorted_keys(copy.deepcopy(config))

    def get_config(self, name: str) -> dict:
        with self.lock:
            config = self.controller_configs.get(name)
            if config is None:
                raise _detail(404, f"Configuration '{name}' not found")
            return {**copy.deepcopy(config), "id": name}

    def list_configs(self) -> list[dict]:
        with self.lock:
            return [{**copy.deepcopy(self.controller_configs[name]), "id": name}
                    for name in sorted(self.controller_configs)]

    def delete_config(self, name: str):
        with self.lock:
            if self.controller_configs.pop(name, None) is None:
                raise _detail(404, f"Configuration '{name}' not found")

    def _bot_with_instance_folder(self, bot_name: str) -> _Bot:
        """The real server checks that bots/instances/<bot>/conf/controllers exists; archiving moves it away."""
        now = self._sync()
        bot = self.bots.get(bot_name)
        if bot is None or self._phase(bot, now) in ("lingering", "archived"):
            raise _detail(404, f"Bot '{bot_name}' not found")
        return bot

    def bot_controller_configs(self, bot_name: str) -> list[dict]:
        with self.lock:
            bot = self._bot_with_instance_folder(bot_name)
            slots = sorted((slot for slot in bot.slots if slot.config is not None),
                           key=lambda slot: slot.file_name)
            return [{**copy.deepcopy(slot.config), "_config_name": slot.file_name[:-4]}
                    for slot in slots]

    def update_bot_controller_config(self, bot_name: str, config_name: str, changes: dict):
        """dict.update into the instance's copy, no validation at all (docs/hummingbot-api.md §4.1). The running
        bot's behaviour is not modelled: the copy is what it would apply (its is_updatable fields) and start with."""
        with self.lock:
            bot = self._bot_with_instance_folder(bot_name)
            file_name = f"{config_name}.yml"
            for index, slot in enumerate(bot.slots):
                if slot.file_name == file_name and slot.config is not None:
                    merged = {**copy.deepcopy(slot.config), **copy.deepcopy(changes)}
                    bot.slots[index] = _Slot(file_name, _sorted_keys(merged))
                    return
            raise _detail(404, f"Controller configuration '{config_name}' not found for bot '{bot_name}'")

    # ---------------------------------------------------------------- deployment

    def deploy(self, instance_name: str, credentials_profile: str, controllers_config: list[str],
               image: str, headless: bool, drawdowns: dict) -> dict:
        with self.lock:
            now = self._sync()
            if credentials_profile not in self.accounts:
                raise _detail(500, "[Errno 2] No such file or directory: "
                                   f"'bots/credentials/{credentials_profile}'")
            name = f"{instance_name}-{self._stamp(now)}"
            if name in self.bots:
                return {"success": False,
                        "message": _docker_conflict(name, self.bots[name].container_id)}
            slots = [self._slot(entry) for entry in controllers_config]
            self._create_bot(name, credentials_profile, image, headless, drawdowns, slots, now)
            return {"success": True, "message": f"Instance {name} created successfully.",
                    "script_config_generated": f"{name}.yml",
                    "controllers_deployed": list(controllers_config),
                    "unique_instance_name": name}

    def _stamp(self, now: float) -> str:
        zone = ZoneInfo(self.config.time_zone) if self.config.time_zone else None
        return datetime.fromtimestamp(now, zone).strftime("%Y%m%d-%H%M%S")

    def _slot(self, entry: str) -> _Slot:
        file_name = entry if entry.endswith(".yml") else f"{entry}.yml"
        config = self.controller_configs.get(file_name[:-4])
        return _Slot(file_name, copy.deepcopy(config) if config is not None else None)

    def _create_bot(self, name, account, image, headless, drawdowns, slots, now):
        bot = _Bot(name=name, account=account, image=image, headless=headless,
                   drawdowns=dict(drawdowns), slots=slots, load_error=self._load_error(slots),
                   container_id=_container_id(self.config.seed, name), deployed_at=now,
                   performance={slot.controller_id: _Performance() for slot in slots})
        self.bots[name] = bot
        self._boot(bot, now)

    def _load_error(self, slots: list[_Slot]) -> str | None:
        """What v2_with_controllers raises while loading these configs (strategy_v2_base)."""
        for slot in slots:
            if slot.config is None:
                return ("[Errno 2] No such file or directory: "
                        f"'/home/hummingbot/conf/controllers/{slot.file_name}'")
            kind, name = slot.config.get("controller_type"), slot.config.get("controller_name")
            if not kind or not name:
                return f"Missing controller_type or controller_name in {slot.file_name}"
            config_class = self.config_class(kind, name)
            if config_class is None and self.has_module(kind, name):
                return f"No configuration class found in the module {name}."
            if config_class is None:
                return f"No module named 'controllers.{kind}.{name}'"
            try:
                errors = _validate(config_class.bot, slot.config)[1]
            except Exception as exc:  # a hummingbot validator's own error, not a ValidationError
                return str(exc)
            if errors:
                return _pydantic_text(config_class.bot.title, errors)
        return None

    # ---------------------------------------------------------------- lifecycle

    def _boot(self, bot: _Bot, now: float):
        """The container (re)starts: SCRIPT_CONFIG makes the bot load and start its controllers."""
        bot.container, bot.boot_time, bot.run_fills = "running", now, 0
        bot.general_logs = [_log("INFO", "Starting V2 script strategy: v2_with_controllers", now,
                                 "hummingbot.client.runner")]
        if bot.load_error:
            bot.strategy, bot.run_since = "failed", None
            bot.error_logs = [_log("ERROR", f"Failed to start strategy: {bot.load_error}", now,
                                   "hummingbot.strategy.strategy_v2_base")]
        else:
            bot.strategy, bot.run_since = "running", now
            bot.error_logs = []

    def _halt(self, bot: _Bot, now: float):
        """The strategy stops placing orders (MQTT stop or process exit)."""
        self._materialize(bot, now)
        bot.run_since = None
        if bot.strategy == "running":
            bot.strategy = "stopped"

    def _phase(self, bot: _Bot, now: float) -> str | None:
        if bot.archive is None:
            return None
        elapsed, delay = now - bot.archive.started_at, self.config.archive_delay
        if elapsed < delay / 2:
            return "stopping"  # graceful wait: excluded from active bots, container still up
        if elapsed < delay:
            return "lingering"  # container removed, archive written, MQTT still lists the bot
        return "archived"

    def _presence(self, bot: _Bot, now: float) -> _Presence:
        phase = self._phase(bot, now)
        if phase == "stopping":
            return _Presence(False, None, bot.container, phase)
        if phase == "lingering":
            # active_bots is rebuilt every second from docker and MQTT: the bot drops out of one
            # rebuild and comes back (docs/hummingbot-api.md §10).
            blink_at = bot.archive.started_at + self.config.archive_delay * 0.75
            return _Presence(not blink_at <= now < blink_at + _BLINK_SECONDS, "mqtt", None, phase)
        if phase == "archived":
            return _Presence(False, None, None, phase)
        if bot.container == "running":
            return _Presence(True, "docker", "running", None)
        lingering = now - bot.container_stopped_at < self.config.mqtt_linger
        return _Presence(lingering, "mqtt" if lingering else None, "exited", None)

    def _active(self, now: float) -> list[_Bot]:
        return [bot for bot in self.bots.values() if self._presence(bot, now).active]

    def _active_bot(self, name: str, now: float) -> tuple[_Bot, _Presence] | tuple[None, None]:
        """The bot and its presence while the orchestrator lists it as active; (None, None) otherwise."""
        bot = self.bots.get(name)
        presence = self._presence(bot, now) if bot else None
        return (bot, presence) if presence is not None and presence.active else (None, None)

    # ---------------------------------------------------------------- fills

    def _sync(self) -> float:
        """Read the clock and materialise the fills every trading bot has made by then."""
        now = self.now()
        for bot in self.bots.values():
            self._materialize(bot, now)
        return now

    def _materialize(self, bot: _Bot, now: float):
        interval = self.config.fill_interval
        if bot.run_since is None or interval <= 0 or not bot.slots:
            return
        if bot.archive is not None:  # a restarted container still goes away with the archive
            now = min(now, bot.archive.started_at + self.config.archive_delay / 2)
        due = int((now - bot.run_since) / interval)
        while bot.run_fills < due:
            bot.run_fills += 1
            self._append_fill(bot, bot.run_since + bot.run_fills * interval)

    def _append_fill(self, bot: _Bot, timestamp: float):
        fill = self._make_fill(bot, timestamp)
        bot.fills.append(fill)
        performance = bot.performance.setdefault(fill.controller_id, _Performance())
        performance.add(fill.side, float(fill.price), float(fill.quantity))

    def _make_fill(self, bot: _Bot, timestamp: float) -> Fill:
        index = len(bot.fills)
        slot = bot.slots[index % len(bot.slots)] if bot.slots else _Slot(f"{bot.name}.yml", None)
        connector, pair = slot.market
        (r_side, r_drift, r_edge, r_size), trade_id = _fill_randomness(
            f"{self.config.seed}|{bot.name}|{index}")
        side = "BUY" if r_side < 0.5 else "SELL"
        mid = self._mid_price(pair) * (1 + (r_drift - 0.5) * 0.02)
        edge = 0.001 + r_edge * 0.004  # the maker buys below and sells above mid
        price = _decimal_text(mid * (1 - edge if side == "BUY" else 1 + edge), 5)
        quantity = _decimal_text((5 + 20 * r_size) / float(price), 4)
        return Fill(trade_id=trade_id, order_id=f"HBOT{side[0]}{trade_id[:8]}{index + 1}",
                    controller_id=slot.controller_id, connector=connector, trading_pair=pair,
                    side=side, price=price, quantity=quantity,
                    # pmm_v1 quotes and volume_taker legs are both LIMIT orders
                    timestamp_ms=int(round(timestamp * 1000)), order_type="LIMIT")

    def last_price(self, pair: str) -> float:
        """The pair's last traded price now (§13), around the mid its fills trade at."""
        with self.lock:
            phase = _fill_randomness(f"{self.config.seed}|phase|{pair}")[0][0]
            return market.price(self._mid_price(pair), phase, self.now())

    def _mid_price(self, pair: str) -> float:
        if pair not in self._mid_prices:
            fraction = _fill_randomness(f"{self.config.seed}|mid|{pair}")[0][0]
            self._mid_prices[pair] = _MID_PRICES.get(pair, 10 ** (-3 + 5 * fraction))
        return self._mid_prices[pair]

    # ---------------------------------------------------------------- bot orchestration

    def all_status(self) -> dict:
        with self.lock:
            now = self._sync()
            result = {}
            for bot in self.bots.values():
                presence = self._presence(bot, now)
                if presence.active:
                    result[bot.name] = {**self._status(bot, presence), "source": presence.source}
            return result

    def bot_status(self, name: str) -> dict:
        with self.lock:
            bot, presence = self._active_bot(name, self._sync())
            if bot is None:
                return {"status": "not_found", "error": f"Bot {name} not found"}
            return self._status(bot, presence)

    def _status(self, bot: _Bot, presence: _Presence) -> dict:
        """BotsOrchestrator.get_bot_status, fed by what the bot publishes over MQTT."""
        publishing = presence.source == "docker"  # a bot listed only via MQTT has gone quiet
        performance = self._performance(bot) if publishing else {}
        return {
            "status": "running" if performance else "stopped",
            "performance": performance,
            "error_logs": list(bot.error_logs) if publishing else [],
            "general_logs": list(bot.general_logs) if publishing else [],
            "recently_active": publishing,
        }

    def _performance(self, bot: _Bot) -> dict:
        if bot.strategy == "failed":
            return {}
        result = {}
        for slot in bot.slots:
            if bot.strategy == "running":
                figures = bot.performance[slot.controller_id].report(slot.budget)
            else:  # after stop-bot the bot keeps publishing empty controller reports
                figures = {}
            result[slot.controller_id] = {"status": "running", "performance": figures,
                                          "custom_info": {}}
        return result

    def stop_bot(self, name: str, skip_order_cancellation: bool, async_backend: bool) -> dict:
        with self.lock:
            now = self._sync()
            bot, presence = self._active_bot(name, now)
            if bot is None:
                return {"success": False, "message": f"Bot {name} not found"}
            bot.stop_requests.append({"at": now, "skip_order_cancellation": skip_order_cancellation,
                                      "async_backend": async_backend})
            if presence.container == "running":
                self._halt(bot, now)
            return {"success": True}

    def start_bot(self, name: str) -> dict:
        """Hummingbot >= 2.13 rejects the MQTT start, and the API ignores the rejection."""
        with self.lock:
            if self._active_bot(name, self._sync())[0] is None:
                return {"success": False, "message": f"Bot {name} not found"}
            return {"success": True}

    def stop_and_archive(self, name: str, skip_order_cancellation: bool, archive_locally: bool,
                         s3_bucket: str | None) -> dict:
        with self.lock:
            now = self._sync()
            bot = self._active_bot(name, now)[0]
            if bot is None:
                active = [other.name for other in self._active(now)]
                return {
                    "status": "error",
                    "message": (f"Bot '{name}' not found in active bots. Active bots: {active}. "
                                "Cannot perform graceful shutdown."),
                    "details": {"input_name": name, "actual_bot_name": name, "container_name": name,
                                "active_bots": active,
                                "reason": "Bot must be actively managed via MQTT for graceful shutdown"},
                }
            if bot.archive is None:  # a lingering bot is already archived: nothing left to do
                self._halt(bot, now)
                bot.archive = _Archive(now, skip_order_cancellation, archive_locally, s3_bucket)
            return {
                "status": "success",
                "message": f"Stop and archive process started for bot {name}",
                "details": {"input_name": name, "actual_bot_name": name, "container_name": name,
                            "process": ("The bot will be gracefully stopped, archived, and removed "
                                        "in the background. This process typically takes 20-30 "
                                        "seconds.")},
            }

    def bot_history(self, name: str, days: int) -> dict | None:
        """The bot's reply to an MQTT history request; None when nobody is there to answer."""
        with self.lock:
            now = self._sync()
            bot, presence = self._active_bot(name, now)
            if bot is None:
                return {"success": False, "message": f"Bot {name} not found"}
            if presence.container != "running":
                return None
            # days=0: since this process started; days=N: from the bot's persistent trade db
            since = bot.boot_time if days == 0 else now - days * 86400
            since_ms = since * 1000
            trades = [_history_trade(fill) for fill in sorted(bot.fills, key=_fill_time)
                      if fill.timestamp_ms >= since_ms]
            bot.history_requests += 1
            header = {"timestamp": int(now * 1000), "msg_id": bot.history_requests,
                      "node_id": name, "agent": "commlib", "properties": {}}
            return {"success": True,
                    "data": {"header": header, "data": {"status": 200, "msg": "", "trades": trades}}}

    def mqtt(self) -> dict:
        with self.lock:
            now = self._sync()
            active = [bot.name for bot in self._active(now)]
            discovered = [bot.name for bot in self.bots.values()
                          if self._presence(bot, now).container == "running" or bot.name in active]
            return {"mqtt_connected": True, "discovered_bots": discovered, "active_bots": active,
                    "broker_host": "127.0.0.1", "broker_port": 1883, "broker_username": "admin",
                    "client_state": "connected"}

    # ---------------------------------------------------------------- docker

    def containers(self, status: str, name_filter: str | None) -> list[dict]:
        with self.lock:
            now = self._sync()
            needle = (name_filter or "").lower()
            return [{"id": bot.container_id, "name": bot.name, "status": status, "image": bot.image}
                    for bot in self.bots.values()
                    if self._presence(bot, now).container == status and needle in bot.name.lower()]

    def stop_container(self, name: str) -> str | None:
        with self.lock:
            now = self._sync()
            bot = self.bots.get(name)
            if bot is None or self._presence(bot, now).container is None:
                return _docker_not_found(name)
            if bot.container == "running":
                self._halt(bot, now)
                bot.container, bot.container_stopped_at = "exited", now
            return None

    def start_container(self, name: str) -> str | None:
        with self.lock:
            now = self._sync()
            bot = self.bots.get(name)
            if bot is None or self._presence(bot, now).container is None:
                return _docker_not_found(name)
            if bot.container != "running":
                self._boot(bot, now)
            return None

    # ---------------------------------------------------------------- archived bots

    def _archived_paths(self, now: float) -> list[str]:
        return [bot.db_path for bot in self.bots.values()
                if self._phase(bot, now) in ("lingering", "archived")]

    def archived_paths(self) -> list[str]:
        with self.lock:
            return self._archived_paths(self._sync())

    def archived_bot(self, db_path: str) -> _Bot:
        """Resolve a db path the way fs_util.get_archived_db_path does."""
        relative = db_path[len("bots/"):] if db_path.startswith("bots/") else db_path
        resolved = posixpath.normpath(relative if relative.startswith("/")
                                      else posixpath.join(_BOTS_ROOT, relative))
        if not resolved.startswith(_ARCHIVED_ROOT + "/") and resolved != _ARCHIVED_ROOT:
            raise _detail(400, f"Path '{db_path}' is outside the archived bots directory")
        with self.lock:
            now = self._sync()
            for bot in self.bots.values():
                if bot.db_file == resolved and self._phase(bot, now) in ("lingering", "archived"):
                    return bot
        raise _detail(404, f"Database path '{db_path}' not found")

    def archived_trades(self, bot: _Bot) -> list[dict]:
        with self.lock:
            return _archived_trade_rows(bot)

    def archived_orders(self, bot: _Bot) -> list[dict]:
        with self.lock:
            return [_archived_order_row(bot, fill) for fill in sorted(bot.fills, key=_fill_time)]


def _fill_time(fill: Fill) -> int:
    return fill.timestamp_ms


def _history_trade(fill: Fill) -> dict:
    base, quote = _split_pair(fill.trading_pair)
    return {
        "market": fill.connector, "trade_id": fill.trade_id, "price": fill.price,
        "quantity": fill.quantity, "symbol": fill.trading_pair,
        "trade_timestamp": fill.timestamp_ms, "trade_type": fill.side,
        "base_asset": base, "quote_asset": quote,
        "raw_json": {"trade_fee": {"fee_type": "DeductedFromReturns", "percent": str(_FEE_RATE),
                                   "percent_token": None, "flat_fees": []}},
    }


def _archived_trade_rows(bot: _Bot) -> list[dict]:
    """TradeFill rows as HummingbotDatabase.get_trade_fills returns them (fees cumulated per
    config/connector/pair; trade_fee is the diff of that sum, 0 on each group's first row)."""
    rows, cumulated = [], {}
    for fill in sorted(bot.fills, key=_fill_time):
        base, quote = _split_pair(fill.trading_pair)
        fee = round(float(fill.price) * float(fill.quantity) * _FEE_RATE, 6)
        group = (fill.connector, fill.trading_pair)
        first = group not in cumulated
        cumulated[group] = round(cumulated.get(group, 0.0) + fee, 10)
        rows.append({
            "config_file_path": f"{bot.name}.yml", "strategy": "v2_with_controllers",
            "connector_name": fill.connector, "trading_pair": fill.trading_pair,
            "base_asset": base, "quote_asset": quote, "timestamp": fill.timestamp_ms,
            "order_id": fill.order_id, "trade_type": fill.side, "order_type": fill.order_type,
            "price": float(fill.price), "amount": float(fill.quantity), "leverage": 1,
            "trade_fee": 0.0 if first else fee, "trade_fee_in_quote": fee,
            "exchange_trade_id": fill.trade_id, "position": "NIL",
            "cum_fees_in_quote": cumulated[group],
        })
    return rows


def _archived_order_row(bot: _Bot, fill: Fill) -> dict:
    base, quote = _split_pair(fill.trading_pair)
    return {
        "id": fill.order_id, "config_file_path": f"{bot.name}.yml",
        "strategy": "v2_with_controllers", "connector_name": fill.connector,
        "trading_pair": fill.trading_pair, "base_asset": base, "quote_asset": quote,
        "creation_timestamp": fill.timestamp_ms - 500, "order_type": fill.order_type,
        "amount": float(fill.quantity), "leverage": 1, "price": float(fill.price),
        "last_status": "FILLED", "last_update_timestamp": fill.timestamp_ms,
        "exchange_order_id": fill.trade_id, "position": "NIL",
    }


def _page(rows: list, limit: int, offset: int) -> tuple[list, dict]:
    return rows[offset:offset + limit], {"total": len(rows), "limit": limit, "offset": offset,
                                         "has_more": offset + limit < len(rows)}


def _unique(values) -> list:
    return list(dict.fromkeys(values))
