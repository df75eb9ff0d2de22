"""The panel's forms: bot create (one set of named fields per strategy), account create, exchange keys, live
parameters, Hummingbot servers, the period of the totals."""
import json
from datetime import date

from django import forms

from bots import selectors, services, strategies
from bots.hummingbot.errors import HummingbotError
from bots.models import DESK_LIMITS, Account, Bot, HummingbotServer
from bots.validators import BOT_NAME_MAX_LENGTH, validate_name, validate_period



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
    unit = strategies.param_unit(name, param)
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
                                 help_text="Shown when a pre-trade check asks for a second look.")

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
        # The API's pre-trade checks, with the same texts (bots/services/pretrade.py); the deploy runs them again.
        assessment = services.new_bot_assessment(account=data["account"], setup=setup)
        for refusal in assessment.refusals:
            self.add_error(self.request_field(refusal.field), refusal.message)
        self.warnings = [warning.message for warning in assessment.warnings]
        if self.warnings and not assessment.refusals and not data.get("confirm"):
            self.add_error("confirm", "Check the warnings above, then tick this box to deploy anyway.")
        return data

    def request_field(self, name: str) -> str | None:
        """This form's field for a field of the API's create body (pre-trade findings name those)."""
        if name.startswith("config."):
            name = f"{self.cleaned_data.get('strategy')}-{name.removeprefix('config.')}"
        name = {"pair": "trading_pair"}.get(name, name)
        return name if name in self.fields else None


class AccountCreateForm(forms.ModelForm):
    server = forms.ModelChoiceField(queryset=HummingbotServer.objects.all(), required=False, empty_label="default",
                                    help_text="The Hummingbot that holds the account and runs its bots.")

    class Meta:
        model = Account
        fields = ["name", "label", "server"]


class DeskLimitsForm(forms.Form):
    """An account's desk limits (bots.change_desk_limits); blank = no limit."""

    def __init__(self, account: Account, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in DESK_LIMITS:
            model_field = Account._meta.get_field(name)
            self.fields[name] = forms.DecimalField(
                required=False, min_value=0, max_digits=model_field.max_digits,
                decimal_places=model_field.decimal_places, initial=getattr(account, name),
                label=f"{model_field.verbose_name.capitalize()} (quote)",
                help_text=f"{model_field.help_text} Blank: no limit.")


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
    comma-separated, an optional one left blank is off. Only the fields that differ are sent. The pre-trade checks'
    warnings (set by the view) need the tick, as on the create form."""

    confirm = forms.BooleanField(required=False, label="Send despite the warnings")

    def __init__(self, bot: Bot, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.warnings = []
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

    def param_fields(self) -> list:
        return [self[name] for name in self.current]

    def request_field(self, name: str) -> str | None:
        name = name.removeprefix("config.")
        return name if name in self.fields else None

    def changes(self) -> dict:
        typed = {}
        for name in self.current:
            value = self.cleaned_data[name]
            if isinstance(self.current[name], list):
                value = [part.strip() for part in value.split(",") if part.strip()]
            elif isinstance(value, str):
                value = value.strip() or None
            typed[name] = value
        return {name: value for name, value in typed.items() if value != self.current[name]}


class HummingbotServerForm(forms.ModelForm):
    """A server's name, URL and username (the admin builds the fields); the rules (allowlist, one password variable
    per server) are the service's."""

    def clean(self):
        cleaned = super().clean()
        name = cleaned.get("name", self.instance.name)
        if not self.errors:
            cleaned["url"] = services.server_clean(name=name, url=cleaned.get("url", ""),
                                                   username=cleaned.get("username", ""),
                                                   adding=self.instance.pk is None)
        return cleaned


def clone_initial(bot: Bot) -> dict[str, str]:
    """The create form's fields for a copy of `bot` (its account, market, strategy and parameters; never its name),
    as the GET parameters of the add page: a list comma-separated, a ticked box "on" and an unticked or "off" one
    blank, which is how the form reads them."""
    initial = {"account": bot.account.name, "strategy": bot.strategy, "connector": bot.connector,
               "trading_pair": bot.trading_pair}
    for name, value in bot.params.items():
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        elif isinstance(value, bool):
            value = "on" if value else ""
        initial[f"{bot.strategy}-{name}"] = "" if value is None else str(value)
    return initial


class PeriodForm(forms.Form):
    """The period of the volume and fee totals, from GET parameters: today, the last 7 or 30 UTC days (today
    included), or from/to days. Its inputs belong to the form element `ledger-period` (on the account page the change
    form is around them)."""

    FORM_ID = "ledger-period"

    period = forms.ChoiceField(
        required=False, initial=selectors.DEFAULT_PERIOD, widget=forms.Select(attrs={"form": FORM_ID}),
        choices=[("day", "today"), ("week", "7 days"), ("month", "30 days"), ("custom", "from … to")],
    )
    since = forms.DateField(required=False, label="from",
                            widget=forms.DateInput(attrs={"type": "date", "form": FORM_ID}))
    until = forms.DateField(required=False, label="to", widget=forms.DateInput(attrs={"type": "date", "form": FORM_ID}))

    @classmethod
    def of_query(cls, query) -> "PeriodForm":
        """Bound to the query when it names a period: other parameters (the admin's own) leave the default."""
        return cls(query if "period" in query else None)

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            missing = {field: "Give the first and the last day (UTC), e.g. 2026-11-01."
                       for field in ("since", "until") if not data.get(field) and field not in self.errors}
            if missing:
                raise forms.ValidationError(missing)
            if data.get("since") and data.get("until"):
                validate_period(data["since"], data["until"])
        return data

    def dates(self, today: date) -> tuple[date, date]:
        """The chosen days; the default period (7 days) while the form is invalid (its errors are shown)."""
        if self.is_valid() and self.cleaned_data["period"] == "custom":
            return self.cleaned_data["since"], self.cleaned_data["until"]
        period = self.cleaned_data.get("period") if self.is_valid() else ""
        return selectors.period_dates(period or selectors.DEFAULT_PERIOD, today)
