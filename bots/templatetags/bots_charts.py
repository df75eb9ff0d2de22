"""The panel's charts, drawn on the server as SVG (no script, no library): a bot's cumulative volume and PnL, the
daily volume of an account or the fleet."""
from decimal import Decimal

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()

WIDTH, HEIGHT, PAD = 560, 150, 4
MAX_POINTS = 200  # a page of a few kB whatever the bot's age: cumulative series stay true when thinned


def cumulative(buckets: list[dict]) -> dict[str, list[tuple]]:
    """(bucket time, value) series from selectors.bot_trade_buckets.

    volume: quote traded so far. pnl: cash from sells minus cash for buys minus fees, plus the base held valued at the
    bucket's average trade price (mark to market from the ledger alone, fees included).
    """
    volume = cash = held = Decimal(0)
    series = {"volume": [], "pnl": []}
    for row in buckets:
        volume += row["bought_quote"] + row["sold_quote"]
        cash += row["sold_quote"] - row["bought_quote"] - row["fees_quote"]
        held += row["bought_base"] - row["sold_base"]
        base = row["bought_base"] + row["sold_base"]
        price = (row["bought_quote"] + row["sold_quote"]) / base if base else Decimal(0)
        series["volume"].append((row["bucket"], volume))
        series["pnl"].append((row["bucket"], cash + held * price))
    return series


@register.filter
def daily(days: list[dict], column: str) -> list[tuple]:
    """(day, value) points of one column of selectors.ledger_totals' `days`."""
    return [(row["day"], row[column]) for row in days]


def _label(value: Decimal) -> str:
    return f"{value:,.2f}"


@register.simple_tag
def line_chart(points: list[tuple], title: str):
    """An SVG line of (time, value) points with the value range and the time span written out."""
    if not points:
        return format_html('<p class="chart-empty">{}: no trades yet.</p>', title)
    if len(points) > MAX_POINTS:
        stride = -(-len(points) // MAX_POINTS)
        points = points[-1::-stride][::-1]  # every step-th point, the latest kept
    values = [value for _, value in points]
    low, high = min(min(values), Decimal(0)), max(max(values), Decimal(0))
    span = (high - low) or Decimal(1)
    step = (WIDTH - 2 * PAD) / max(len(points) - 1, 1)

    def y(value) -> str:
        return f"{float(HEIGHT - PAD - (value - low) / span * (HEIGHT - 2 * PAD)):.1f}"
    coordinates = " ".join(f"{PAD + i * step:.1f},{y(value)}" for i, value in enumerate(values))
    if len(points) == 1:
        coordinates = f"{PAD},{y(values[0])} {WIDTH - PAD},{y(values[0])}"
    dots = format_html_join("", '<circle cx="{}" cy="{}" r="2"><title>{} UTC: {}</title></circle>',
                            ((f"{PAD + i * step:.1f}", y(value), at.strftime("%Y-%m-%d %H:%M"), _label(value))
                             for i, (at, value) in enumerate(points)))
    return format_html(
        '<figure class="bot-chart" data-chart="{}"><figcaption>{} <small>now {} · range {} to {} · {} to {} UTC'
        '</small></figcaption><svg viewBox="0 0 {} {}" width="100%" role="img" aria-label="{}">'
        '<line x1="0" x2="{}" y1="{}" y2="{}" class="zero"/><polyline points="{}"/>{}</svg></figure>',
        title.lower().replace(" ", "-"), title, _label(values[-1]), _label(low), _label(high),
        points[0][0].strftime("%Y-%m-%d %H:%M"), points[-1][0].strftime("%Y-%m-%d %H:%M"),
        WIDTH, HEIGHT, title, WIDTH, y(Decimal(0)), y(Decimal(0)), coordinates, dots,
    )
