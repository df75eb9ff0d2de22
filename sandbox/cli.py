"""`python -m sandbox`: the sandbox in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from contextlib import contextmanager

from .config import SandboxConfig
from .persistence import StateFile
from .server import start_sandbox
from .state import SandboxState

# --------------------------------------------------------------------------- command line


@contextmanager
def _until_stop_signal():
    """Ctrl-C (SIGINT), SIGTERM (how `make demo` stops its children) and SIGHUP (its terminal closed) all end
    the block cleanly, so a `--state-file` is saved. SIGHUP only when not ignored: that is `nohup` asking to stay.

    Installed explicitly: a background job of a non-interactive shell starts with SIGINT ignored,
    `exec` keeps that, and Python then never raises KeyboardInterrupt. The previous handlers come
    back afterwards, so an in-process caller keeps its own.
    """
    stop_signals = (signal.SIGINT, signal.SIGTERM) + (
        () if signal.getsignal(signal.SIGHUP) == signal.SIG_IGN else (signal.SIGHUP,))
    previous = {signum: signal.signal(signum, signal.default_int_handler) for signum in stop_signals}
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None):
    defaults = SandboxConfig()
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Run the hummingbot-api SANDBOX (an emulator; it never trades).")
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port)
    parser.add_argument("--username", default=os.environ.get("HUMMINGBOT_API_USERNAME",
                                                             defaults.username))
    parser.add_argument("--password", default=os.environ.get("HUMMINGBOT_API_PASSWORD",
                                                             defaults.password))
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--archive-delay", type=float, default=defaults.archive_delay)
    parser.add_argument("--mqtt-linger", type=float, default=defaults.mqtt_linger)
    parser.add_argument("--fill-interval", type=float, default=defaults.fill_interval)
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    parser.add_argument("--state-file", metavar="PATH",
                        help="keep the state (accounts, configs, bots, fills; not faults) in this JSON file: "
                             "loaded at start, saved after every write and at shutdown")
    args = parser.parse_args(argv)
    config = SandboxConfig(host=args.host, port=args.port, username=args.username,
                           password=args.password, seed=args.seed,
                           archive_delay=args.archive_delay, mqtt_linger=args.mqtt_linger,
                           fill_interval=args.fill_interval, log_requests=not args.quiet)
    state_file = StateFile(args.state_file) if args.state_file else None
    state = state_file.load(config) if state_file else SandboxState(config)

    def save():
        try:
            state_file.save(state)
        except OSError as exc:
            print(f"sandbox: could not save the state file {state_file.path}: {exc}", file=sys.stderr, flush=True)

    with _until_stop_signal():
        sandbox = start_sandbox(config, state=state, after_write=save if state_file else None)
        try:
            print(f"hummingbot-api SANDBOX (emulator, no real bots or exchanges) on {sandbox.url} "
                  f"- user '{config.username}', seed {config.seed}, archive delay {config.archive_delay}s, "
                  f"fill interval {config.fill_interval}s"
                  + (f", state in {state_file.path} ({len(state.bots)} bots)" if state_file else ""), flush=True)
            while True:
                time.sleep(3600)
        finally:
            sandbox.stop()
            if state_file:
                save()
