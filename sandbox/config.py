"""The sandbox's settings and the upstream facts it serves (docs/hummingbot-api.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 8001
    username: str = "admin"
    password: str = field(default="admin", repr=False)
    seed: int = 1
    archive_delay: float = 40.0  # the real stop-and-archive takes 38-50 s
    mqtt_linger: float = 5.0  # how long a silent bot stays listed (30 s on the real server)
    fill_interval: float = 10.0  # seconds of trading per automatic fill; 0 disables them
    log_requests: bool = True
    # Deployed names carry the server's local time (datetime.now(), §2); None = this process's zone.
    time_zone: str | None = None
# --------------------------------------------------------------------------- upstream data

API_VERSION = "1.0.1"
CONTROLLER_TYPES = ("directional_trading", "market_making", "generic")

# GET /controllers/ of the real server (captured/controllers-list.json).
STOCK_CONTROLLERS = {
    "directional_trading": (
        "bollinger_v1", "bollinger_v2", "bollingrid", "dman_v3", "macd_bb_v1", "supertrend_v1",
    ),
    "market_making": ("dman_maker_v2", "pmm_dynamic", "pmm_simple"),
    "generic": (
        "arbitrage_controller", "grid_strike", "hedge_asset", "lp_rebalancer", "multi_grid_strike",
        "pmm", "pmm_adjusted", "pmm_mister", "pmm_v1", "quantum_grid_allocator", "stat_arb",
        "xemm_multiple_levels",
    ),
}

# GET /connectors/ of the real server (captured/connectors-list.json): no gateway names.
CONNECTORS = (
    "hyperliquid_perpetual", "hyperliquid_perpetual_testnet", "aevo_perpetual",
    "aevo_perpetual_testnet", "pacifica_perpetual", "pacifica_perpetual_testnet", "okx_perpetual",
    "derive_perpetual", "derive_perpetual_testnet", "backpack_perpetual", "architect_perpetual",
    "architect_perpetual_sandbox", "bitget_perpetual", "kucoin_perpetual", "decibel_perpetual",
    "decibel_perpetual_testnet", "lighter_perpetual", "lighter_perpetual_testnet",
    "evedex_perpetual", "grvt_perpetual", "grvt_perpetual_testnet", "kalshi_perpetual",
    "bybit_perpetual", "bybit_perpetual_testnet", "gate_io_perpetual", "bitmart_perpetual",
    "binance_perpetual", "binance_perpetual_testnet", "dydx_v4_perpetual", "gate_io", "lighter",
    "lighter_testnet", "coinbase_advanced_trade", "htx", "ndax", "ndax_testnet", "bitmart",
    "hyperliquid", "hyperliquid_testnet", "bitstamp", "okx", "bybit", "bybit_testnet", "kucoin",
    "kucoin_hft", "mexc", "bitget", "gemini", "bing_x", "lambdaplex", "kraken", "btc_markets",
    "dexalot", "dexalot_testnet", "backpack", "bitrue", "foxbit", "derive", "derive_testnet",
    "binance",
)

# Credential fields of GET /connectors/{c}/config-map (all SecretStr, required).
CONFIG_MAP_FIELDS = {
    "binance": ("binance_api_key", "binance_api_secret"),
    "kucoin": ("kucoin_api_key", "kucoin_secret_key", "kucoin_passphrase"),
    "bitmart": ("bitmart_api_key", "bitmart_secret_key", "bitmart_memo"),
}

# "exchange_down": what the market-data routes answer when the exchange cannot be reached (§13).
FAULT_KINDS = ("refuse", "delay", "500", "401", "nonjson", "error200", "exchange_down")

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_BOTS_ROOT = "/hummingbot-api/bots"  # where the real server keeps bots/ inside its container
_ARCHIVED_ROOT = f"{_BOTS_ROOT}/archived"
_FALLBACK_MARKET = ("bitmart", "SHARP-USDT")
_MID_PRICES = {"SHARP-USDT": 0.005, "BTC-USDT": 64000.0, "ETH-USDT": 3000.0, "SOL-USDT": 150.0}
_FEE_RATE = 0.001
_BLINK_SECONDS = 1.0
_MICRO = Decimal("0.000001")


def _config_map(connector: str) -> dict | None:
    """The config-map of a listed connector; None for an unknown one (the API answers 500)."""
    if connector not in CONNECTORS:
        return None
    names = CONFIG_MAP_FIELDS.get(connector, (f"{connector}_api_key", f"{connector}_api_secret"))
    return {name: {"type": "SecretStr", "required": True} for name in names}
