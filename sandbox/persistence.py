"""The sandbox's state on disk (`python -m sandbox --state-file PATH`, used by `make demo`).

A restarted sandbox must still know the accounts, credentials, configs and bots the bridge's database
refers to: a fresh one answered Start and Create with `No such file or directory: 'bots/credentials/...'`.
The file is versioned JSON of data only (no pickle: loading never runs code from the file). The codec is
generic: every attribute of SandboxState except SandboxState.NOT_PERSISTED is saved, through dicts, lists,
sets, tuples, decimals and the sandbox package's own record classes, so an attribute added later is persisted
without touching this module (tests/test_sandbox_persistence.py fails when one cannot be).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from .config import SandboxConfig
from .state import SandboxState

FORMAT = "hummingbot-api-sandbox-state"
VERSION = 1
_PACKAGE = __name__.partition(".")[0]
_LOCK_FACTORIES = {"Lock": threading.Lock, "RLock": threading.RLock}
_LOCK_NAMES = {type(factory()): name for name, factory in _LOCK_FACTORIES.items()}


class StateFileRefused(Exception):
    """The file is not a state this sandbox reads (corrupt, another format or version)."""


# --------------------------------------------------------------------------- codec


def encode(value: Any, where: str = "state") -> Any:
    """JSON-ready data; anything else (a function, a socket, a foreign class) is a TypeError naming `where`."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, list):
        return [encode(item, f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        items = [encode(item, f"{where}{{}}") for item in value]
        return {"$set": sorted(items, key=json.dumps)}
    if isinstance(value, dict):
        if all(isinstance(key, str) and not key.startswith("$") for key in value):
            return {key: encode(item, f"{where}[{key!r}]") for key, item in value.items()}
        return {"$dict": [[encode(key, f"{where} key"), encode(item, f"{where}[{key!r}]")]
                          for key, item in value.items()]}
    if type(value) in _LOCK_NAMES:  # a part's own lock: a fresh one on load
        return {"$lock": _LOCK_NAMES[type(value)]}
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {"$tuple": [encode(item, f"{where}[{index}]") for index, item in enumerate(value)]}
    cls = type(value)
    if not cls.__module__.startswith(_PACKAGE + ".") and cls.__module__ != _PACKAGE:
        raise TypeError(f"{where}: cannot persist a {cls.__module__}.{cls.__qualname__}")
    return {"$object": f"{cls.__module__}:{cls.__qualname__}",
            "$fields": {name: encode(getattr(value, name), f"{where}.{name}") for name in _field_names(value)}}


def _field_names(value: Any) -> list[str]:
    if dataclasses.is_dataclass(value):
        return [field.name for field in dataclasses.fields(value)]
    if hasattr(value, "_fields"):  # NamedTuple
        return list(value._fields)
    slots = [name for cls in type(value).__mro__ for name in getattr(cls, "__slots__", ())]
    return slots or list(vars(value))


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$decimal" in value:
        return Decimal(value["$decimal"])
    if "$set" in value:
        return {decode(item) for item in value["$set"]}
    if "$tuple" in value:
        return tuple(decode(item) for item in value["$tuple"])
    if "$dict" in value:
        return {decode(key): decode(item) for key, item in value["$dict"]}
    if "$lock" in value:
        return _LOCK_FACTORIES[value["$lock"]]()
    if "$object" in value:
        return _instance(value["$object"], {name: decode(item) for name, item in value["$fields"].items()})
    return {key: decode(item) for key, item in value.items()}


def _instance(name: str, fields: dict) -> Any:
    """A record of the sandbox package, filled without running its __init__ (the file names data, not code)."""
    module_name, _, qualname = name.partition(":")
    if module_name != _PACKAGE and not module_name.startswith(_PACKAGE + "."):
        raise ValueError(f"{name!r} is not a class of the {_PACKAGE} package")
    cls: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    if not isinstance(cls, type) or cls.__module__ != module_name:
        raise ValueError(f"{name!r} is not a class of the {_PACKAGE} package")
    if hasattr(cls, "_fields"):
        return cls(**fields)
    instance = object.__new__(cls)
    for field_name, item in fields.items():
        object.__setattr__(instance, field_name, item)  # frozen dataclasses too
    return instance


# --------------------------------------------------------------------------- the file


def state_document(state: SandboxState) -> dict:
    with state.lock:  # one consistent snapshot across parts
        return {"format": FORMAT, "version": VERSION, "saved_at": state.now(),
                "state": {name: encode(value, name) for name, value in vars(state).items()
                          if name not in SandboxState.NOT_PERSISTED}}


def restore(document: Any, config: SandboxConfig, clock: Callable[[], float] | None = None) -> SandboxState:
    """A SandboxState from a saved document; StateFileRefused says why it cannot be one.

    Attributes missing from the file keep their fresh defaults (a part added since the file was written).
    Timestamps stay those of the saved wall clock, so running bots have kept running meanwhile.
    """
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StateFileRefused(f"not a sandbox state file (no \"format\": \"{FORMAT}\")")
    if document.get("version") != VERSION:
        raise StateFileRefused(f"version {document.get('version')!r}; this sandbox reads version {VERSION}")
    state = SandboxState(config, clock)
    saved = document.get("state")
    if not isinstance(saved, dict):
        raise StateFileRefused("no \"state\" object")
    unknown = sorted(set(saved) - (set(vars(state)) - SandboxState.NOT_PERSISTED))
    if unknown:
        raise StateFileRefused(f"unknown parts {unknown}")
    try:
        for name, value in saved.items():
            setattr(state, name, decode(value))
    except (KeyError, TypeError, ValueError, AttributeError, ImportError) as exc:
        raise StateFileRefused(f"unreadable ({type(exc).__name__}: {exc})") from exc
    return state


class StateFile:
    """Load once at start; save after every write and at shutdown, atomically (temp file + rename)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._saving = threading.Lock()  # snapshots land on disk in the order they were taken

    def load(self, config: SandboxConfig, clock: Callable[[], float] | None = None,
             warn: Callable[[str], None] | None = None) -> SandboxState:
        """The saved state, or a fresh one when there is no file. A file that cannot be read is never
        overwritten: it is moved aside (`<name>.refused-<time>`) and `warn` says so."""
        if not self.path.exists():
            return SandboxState(config, clock)
        try:
            try:
                document = json.loads(self.path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise StateFileRefused(f"not JSON ({exc})") from exc
            return restore(document, config, clock)
        except StateFileRefused as refusal:
            aside = self.path.with_name(f"{self.path.name}.refused-{datetime.now():%Y%m%d-%H%M%S}")
            self.path.rename(aside)
            (warn or _stderr)(f"sandbox: refused the state file {self.path}: {refusal}; moved it to {aside} "
                              "and started empty")
            return SandboxState(config, clock)

    def save(self, state: SandboxState):
        with self._saving:
            text = json.dumps(state_document(state), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                    file.write(text)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise


def _stderr(message: str):
    print(message, file=sys.stderr, flush=True)
