"""The panel's forms: bot create (one set of named fields per strategy), account create, exchange keys, live
parameters."""
import json
from decimal import Decimal

from django import forms

from bots import services, strategies
from bots.hummingbot.errors import HummingbotError
from bots.models import Account, Bot, HummingbotServer
from bots.validators import BOT_NAME_MAX_LENGTH, validate_name

# Thresholds of the create form's sanity checks: beyond them a deploy needs the "confirm" box (never a refusal).
FAR_FROM_BOOK_PCT = Decimal(5)
WIDE_BAND_RATIO = Decimal(2)


PARAM_UNITS = {"order_amount": "base", "price_floor": "quote", "price_ceiling": "quote", "min_price": "quote",
               "max_price": "quote", "inventory_range_multiplier": "×", "max_empty_legs": "legs",
               "no_fill_alert_minutes": "minutes"}


def param_unit(name: str, param) -> str:
    """The unit column of the tables in bots/strategies.py, for labels and the bot page."""
    if name in PARAM_UNITS:
        return PARAM_UNITS[name]
    if name.endswith("_pct"):
        return "%"
    if name.endswith("_quote"):
        return "quote"
    return "seconds" if getattr(param, "unit", "") == " s" else ""


def _connector_choices() -> tuple[list, str]:
    """Hummingbot's exchange connectors and our Gateway connectors with their network; and why the list is short."""
    gateway = [(name, f"{name} (Gateway, {network})") for name, network in sorted(strategies.GATEWAY_NETWORKS.items())]
    try:
        exchanges, problem = [(name, name) for name in services.key_connectors()], ""
    except HummingbotError as exc:
        exchanges = []
        problem = f"Hummingbot's connector list could not be read ({exc.message}): only Gateway connectors are offered."
    return [("", "---------"), ("Exchanges", exchanges), ("Gateway (DEX, volume only)", gateway)], problem


def _range_text(param) -> str:
    if not hasattr(param, "low"):
        return ""
    low, high = format(param.low, ","), format(param.high, ",")
    return f"> {low}, ≤ {high}" if param.low_open else f"{low} to {high}"


def _param_field(strategy: str, name: str, param) -> forms.Field:
    """One named field per parameter of bots/strategies.py's tables: unit, range, default, live in the help."""
    spec = strategies.STRATEGIES[strategy]
    default = param.default
    item = getattr(param, "item", None)
    unit = param_unit(name, item or param)
    facts = [f"key {name}", f"unit {unit}" if unit else "", _range_text(item or param)]
    if isinstance(default, bool):
        field = forms.BooleanField(required=False, initial=default)
    elif isinstance(default, tuple):
        field = forms.CharField(required=False, initial=", ".join(default), max_length=200)
        facts.insert(1, "comma-separated, 1-5 levels")
    else:
        required = default is not None and not isinstance(default, (str, int))
        field = forms.CharField(required=False, max_length=64, initial="" if required or default is None else default,
                                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 14}))
        facts.append("required" if required else "blank = off" if default is None else f"default {default}")
    facts.append("changes live" if name in spec.live else "set at start")
    field.label = f"{param.label[0].upper()}{param.label[1:]}" + (f" ({unit})" if unit else "")
    field.help_text = " · ".join(fact for fact in facts if fact)
    return field


def _sanity_warnings(setup: strategies.BotSetup) -> list[str]:
    """What a desk would double-check before deploying. Units are the strategies' (bots/strategies.py).

    Not checked: the order size in quote at the current price, because the Hummingbot API documents no price
    endpoint we could read (docs/hummingbot-api.md).
    """
    params, (base, quote) = setup.params, setup.trading_pair.split("-", 1)
    warnings = []
    if isinstance(params, strategies.SpreadParams):
        levels = len(params.buy_spreads_pct)
        breakeven = params.budget_quote / (params.order_amount * levels)
        if breakeven <= 1:
            warnings.append(
                f"Order amount is in {base} (base): {levels} buy level(s) of {params.order_amount:f} {base} cost more "
                f"than the {params.budget_quote:f} {quote} budget whenever {base} trades above {breakeven:f} {quote}.")
        far = [f"{pct:f}%" for pct in (*params.buy_spreads_pct, *params.sell_spreads_pct) if pct > FAR_FROM_BOOK_PCT]
        if far:
            warnings.append(f"Spreads {', '.join(far)} are far from the book (over {FAR_FROM_BOOK_PCT}%): those orders "
                            "may never fill.")
    else:
        if params.max_price > params.min_price * WIDE_BAND_RATIO:
            warnings.append(f"The price band {params.min_price:f}-{params.max_price:f} {quote} spans more than "
                            f"×{WIDE_BAND_RATIO}: check it brackets the current {base} price closely.")
        if params.max_book_spread_pct > FAR_FROM_BOOK_PCT:
            warnings.append(f"Max book spread {params.max_book_spread_pct:f}% lets legs trade in a thin book "
                            f"(over {FAR_FROM_BOOK_PCT}%).")
    return warnings


class BotCreateForm(forms.Form):
    """One set of named fields per strategy (both on the page: switching loses nothing; bots/static/bots/
    create_form.js shows the chosen one). Parsed by strategies.parse_bot, the one parser; the preview is
    strategies.controller_config's output, the body Hummingbot receives."""

    name = forms.CharField(max_length=BOT_NAME_MAX_LENGTH, validators=[validate_name],
                           help_text="Letters, digits, '_' and '-'. Hummingbot appends a timestamp.")
    account = forms.ModelChoiceField(queryset=Account.objects.all(), to_field_name="name")
    strategy = forms.ChoiceField(choices=[("spread", "Spread: limit orders around mid (pmm_v1, exchanges)"),
                                          ("volume", "Volume: paced taker legs (volume_taker, exchanges and Gateway)")])
    connector = forms.ChoiceField(help_text="Hummingbot's connectors; Gateway connectors with their network.")
    trading_pair = forms.CharField(max_length=129, help_text="BASE-QUOTE, e.g. SHARP-USDT")
    confirm = forms.BooleanField(required=False, label="Deploy despite the warnings",
                                 help_text="Shown when a sanity check asks for a second look.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connector"].choices, self.connector_problem = _connector_choices()
        for strategy, spec in strategies.STRATEGIES.items():
            for name, param in spec.params.items():
                self.fields[f"{strategy}-{name}"] = _param_field(strategy, name, param)
        self.warnings, self.preview = [], None

    def bot_fields(self) -> list:
        return [self[name] for name in ("name", "account", "strategy", "connector", "trading_pair")]

    def strategy_fields(self) -> dict[str, list]:
        return {strategy: [self[f"{strategy}-{name}"] for name in spec.params]
                for strategy, spec in strategies.STRATEGIES.items()}

    def _params(self, strategy: str) -> dict:
        """The chosen strategy's fields as strategies.parse_params reads them; blank = its default (or off)."""
        params = {}
        for name, param in strategies.STRATEGIES[strategy].params.items():
            value = self.cleaned_data.get(f"{strategy}-{name}")
            if isinstance(value, bool):
                params[name] = value
            elif isinstance(param.default, tuple) and value:
                params[name] = [part.strip() for part in value.split(",") if part.strip()]
            elif value:
                params[name] = value.strip()
        return params

    def clean(self):
        data = super().clean()
        strategy = data.get("strategy")
        if strategy not in strategies.STRATEGIES:
            return data
        data["params"] = self._params(strategy)
        try:
            setup = strategies.parse_bot(strategy=strategy, connector=data.get("connector"),
                                         trading_pair=data.get("trading_pair"), params=data["params"])
        except strategies.ParamsError as exc:
            for key, message in exc.errors.items():
                field = key if key in self.fields and "-" not in key else f"{strategy}-{key}"
                field = field if field in self.fields else None
                if field not in self.errors:  # a field Django already refused is not reported twice
                    self.add_error(field, message)
            return data
        if self.errors:
            return data
        self.preview = json.dumps(strategies.controller_config(data["name"], setup.connector, setup.trading_pair,
                                                               setup.params), indent=2)
        self.deploy_limits = strategies.deploy_limits(setup.params)
        self.warnings = _sanity_warnings(setup)
        # A budget above what the account has available is a warning too, never a refusal.
        budget = services.new_bot_budget_warning(account=data.get("account"), connector=setup.connector,
                                                 trading_pair=setup.trading_pair, params=data["params"])
        self.warnings += [budget] if budget else []
        if self.warnings and not data.get("confirm"):
            self.add_error("confirm", "Check the warnings above, then tick this box to deploy anyway.")
        return data


class AccountCreateForm(forms.ModelForm):
    server = forms.ModelChoiceField(queryset=HummingbotServer.objects.all(), required=False, empty_label="default",
                                    help_text="The Hummingbot that holds the account and runs its bots.")

    class Meta:
        model = Account
        fields = ["name", "label", "server"]


class ConnectorChoiceForm(forms.Form):
    """The first step of the keys form: one of Hummingbot's connectors (GET /connectors/, §5)."""

    connector = forms.ChoiceField(help_text="Gateway connectors (jupiter...) take a wallet in Gateway, not keys here.")

    def __init__(self, connectors: list[str], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connector"].choices = [("", "---------")] + [(name, name) for name in connectors]


class CredentialsForm(forms.Form):
    """One password field per config-map field of the connector; values are never rendered back."""

    def __init__(self, config_map: dict, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, spec in config_map.items():
            self.fields[name] = forms.CharField(
                required=bool(spec.get("required", True)), widget=forms.PasswordInput(render_value=False),
                strip=True, max_length=1024,
            )


class LiveParamsForm(forms.Form):
    """The bot's live parameters (bots/strategies.py, column "live") with their current values; lists are typed
    comma-separated, an optional one left blank is off. Only the fields that differ are sent."""

    def __init__(self, bot: Bot, *args, **kwargs):
        super().__init__(*args, **kwargs)
        spec = strategies.STRATEGIES[bot.strategy]
        self.current = {name: bot.params.get(name) for name in spec.params if name in spec.live}
        for name, value in self.current.items():
            label = f"{spec.params[name].label} ({name})"
            if isinstance(value, bool):
                self.fields[name] = forms.BooleanField(label=label, required=False, initial=value)
            elif isinstance(value, list):
                self.fields[name] = forms.CharField(label=label, initial=", ".join(value), help_text="comma-separated")
            else:
                optional = spec.params[name].default is None
                self.fields[name] = forms.CharField(label=label, required=not optional, initial=value or "",
                                                    help_text="blank = off" if optional else "")

    def changes(self) -> dict:
        typed = {}
        for name, value in self.cleaned_data.items():
            if isinstance(self.current[name], list):
                value = [part.strip() for part in value.split(",") if part.strip()]
            elif isinstance(value, str):
                value = value.strip() or None
            typed[name] = value
        return {name: value for name, value in typed.items() if value != self.current[name]}
