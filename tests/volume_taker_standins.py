"""bots/controllers/volume_taker.py, loaded without Hummingbot: small stand-ins for the imports it needs.

Shared by tests/test_volume_taker.py and bench/volume_sim.py."""

import enum
import importlib.util
import sys
import types
from pathlib import Path
from unittest import mock

SOURCE_PATH = Path(__file__).resolve().parent.parent / "bots" / "controllers" / "volume_taker.py"


class Record:
    """Keyword-built object, like the pydantic models it replaces."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


class TradeType(enum.Enum):
    BUY = 1
    SELL = 2


class PriceType(enum.Enum):
    MidPrice = 1
    BestBid = 2
    BestAsk = 3


class RunnableStatus(enum.Enum):
    RUNNING = 2
    TERMINATED = 4


class CloseType(enum.Enum):
    EARLY_STOP = 5
    FAILED = 8
    POSITION_HOLD = 10


class ExecutionStrategy(enum.Enum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"


class ControllerBase:
    def __init__(self, config, market_data_provider, actions_queue, update_interval=1.0):
        self.config = config
        self.market_data_provider = market_data_provider
        self.executors_info = []
        self.positions_held = []
        self.performance_report = None
        self.processed_data = {}
        self.status = RunnableStatus.RUNNING


def _stub_modules():
    def module(name, **attrs):
        mod = types.ModuleType(name)
        mod.__dict__.update(attrs)
        return mod

    def passthrough(*_args, **_kwargs):
        return lambda function: function

    record = {name: type(name, (Record,), {}) for name in [
        "ConnectorPair", "OrderExecutorConfig", "ExecutorAction", "CreateExecutorAction", "StopExecutorAction"]}
    leaves = {
        "pydantic": module("pydantic", Field=lambda default=None, **_: default,
                           field_validator=passthrough, model_validator=passthrough),
        "hummingbot.core.data_type.common": module(
            "hummingbot.core.data_type.common", MarketDict=dict, PriceType=PriceType, TradeType=TradeType),
        "hummingbot.strategy_v2.controllers.controller_base": module(
            "hummingbot.strategy_v2.controllers.controller_base",
            ControllerBase=ControllerBase, ControllerConfigBase=Record),
        "hummingbot.strategy_v2.executors.data_types": module(
            "hummingbot.strategy_v2.executors.data_types", ConnectorPair=record["ConnectorPair"]),
        "hummingbot.strategy_v2.executors.order_executor.data_types": module(
            "hummingbot.strategy_v2.executors.order_executor.data_types",
            ExecutionStrategy=ExecutionStrategy, OrderExecutorConfig=record["OrderExecutorConfig"]),
        "hummingbot.strategy_v2.models.base": module("hummingbot.strategy_v2.models.base",
                                                     RunnableStatus=RunnableStatus),
        "hummingbot.strategy_v2.models.executors": module("hummingbot.strategy_v2.models.executors",
                                                          CloseType=CloseType),
        "hummingbot.strategy_v2.models.executor_actions": module(
            "hummingbot.strategy_v2.models.executor_actions", **{
                name: record[name] for name in ["ExecutorAction", "CreateExecutorAction", "StopExecutorAction"]}),
    }
    parents = {".".join(name.split(".")[:depth]) for name in leaves for depth in range(1, name.count(".") + 1)}
    return {**{name: module(name) for name in parents}, **leaves}


def load_volume_taker() -> types.ModuleType:
    """The controller module, imported from its file with the stand-ins in sys.modules (restored after)."""
    with mock.patch.dict(sys.modules, _stub_modules()):
        spec = importlib.util.spec_from_file_location("volume_taker_under_test", SOURCE_PATH)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    return module
