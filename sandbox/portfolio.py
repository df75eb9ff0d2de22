"""The sandbox's portfolio state, `POST /portfolio/state` (docs/hummingbot-api.md §12).

Each credential added to an account
seeds that connector's balances; tests set exact ones with `set_balance`. Answers carry floats, as the real server's.
"""
from __future__ import annotations

import threading

# What a freshly added connector holds: token -> (units, price in USDT).
SEED_BALANCES = {"USDT": (10_000.0, 1.0), "SHARP": (1_000_000.0, 0.005)}


class SandboxPortfolio:
    def __init__(self):
        self.lock = threading.Lock()
        # (account, connector) -> token -> [units, available_units, price]
        self.balances: dict[tuple[str, str], dict[str, list[float]]] = {}

    def seed(self, account: str, connector: str) -> None:
        with self.lock:
            self.balances.setdefault((account, connector), {
                token: [units, units, price] for token, (units, price) in SEED_BALANCES.items()})

    def set_balance(self, account: str, connector: str, token: str, *, units: float, available: float,
                    price: float = 1.0) -> None:
        with self.lock:
            self.balances.setdefault((account, connector), {})[token] = [units, available, price]

    def state(self, body: dict | None, *, accounts) -> dict:
        """`accounts`: the ones the server still has (a deleted account's folder, and so its state, is gone)."""
        body = body if isinstance(body, dict) else {}
        wanted_accounts, wanted_connectors = body.get("account_names"), body.get("connector_names")
        answer: dict[str, dict[str, list[dict]]] = {}
        with self.lock:
            for (account, connector), tokens in sorted(self.balances.items()):
                if account not in accounts or (wanted_accounts is not None and account not in wanted_accounts):
                    continue
                if wanted_connectors is not None and connector not in wanted_connectors:
                    continue
                answer.setdefault(account, {})[connector] = [
                    {"token": token, "units": units, "price": price, "value": units * price,
                     "available_units": available}
                    for token, (units, available, price) in sorted(tokens.items())]
        return answer
