"""Posting the panel's typed create form as a desk user's browser does."""
from django.urls import reverse

SPREAD = {"order_amount": "1000", "budget_quote": "500"}


def typed_fields(strategy: str, params: dict) -> dict:
    """What the create form posts: one field per parameter, named '<strategy>-<key>'; lists comma-separated."""
    data = {f"{strategy}-{key}": ", ".join(map(str, value)) if isinstance(value, list) else value
            for key, value in params.items()}
    if strategy == "spread":
        data.setdefault("spread-inventory_skew_enabled", "on")  # the checkbox's initial state
    return data


def create(panel, name="sharp_mm", strategy="spread", params=SPREAD, confirm="on", **fields):
    data = {"name": name, "account": "client_sharp", "strategy": strategy, "connector": "bitmart",
            "trading_pair": "SHARP-USDT", "deploy": "Deploy", "confirm": confirm, **typed_fields(strategy, params),
            **fields}
    return panel.post(reverse("admin:bots_bot_add"), data)
