"""Sandbox: a stateful emulator of the hummingbot-api subset that Trading Bridge uses.

It serves real HTTP (HTTP Basic auth, JSON) and reproduces the contract captured from
hummingbot-api commit ee7ce5c (docs/hummingbot-api.md), traps included:

* list endpoints exist only with a trailing slash, all others only without;
* an invalid ``instance_name`` on deploy is an HTTP 500 *text* body, not a 422;
* several failures come back as HTTP 200 bodies (``success: false``, ``status: error``);
* ``stop-bot`` leaves the bot listed as ``running`` with empty performance entries;
* ``start-bot`` answers success and does nothing (Hummingbot >= 2.13);
* ``stop-and-archive-bot`` is slow and blinks: the bot vanishes from ``/status``, comes back
  as ``stopped`` (source ``mqtt``), then disappears and shows up under ``/archived-bots/``.

Everything timed (fills, MQTT linger, archive phases) is derived lazily from an injectable
clock, so tests drive it with a fake clock instead of sleeping. Standard library only.

    sb = start_sandbox(SandboxConfig(port=0))
    ...
    sb.stop()

Foreground server: ``python -m sandbox --help``. Development tooling: ``.dockerignore`` keeps this
package out of the production image, and nothing under ``bots/`` or ``bridge/`` imports it.

Modules, in dependency order: config (settings, upstream facts), replies, validation (pydantic-style
validators, controller config classes, request bodies), state, endpoints (request parsing, handlers and
the route table), server (routing, faults, auth, HTTP), cli.
"""

from .cli import main
from .config import (
           API_VERSION,
           CONNECTORS,
           CONTROLLER_TYPES,
           FAULT_KINDS,
           STOCK_CONTROLLERS,
           SandboxConfig,
)
from .server import Sandbox, start_sandbox
from .state import Fill, SandboxState

__all__ = ["API_VERSION", "CONNECTORS", "CONTROLLER_TYPES", "FAULT_KINDS", "STOCK_CONTROLLERS", "Fill", "Sandbox",
           "SandboxConfig", "SandboxState", "main", "start_sandbox"]
