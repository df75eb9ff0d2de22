"""The panel's charts, drawn on the server as SVG (no script, no library): Hummingbot's reported net PnL and volume
of a bot over time, from its performance samples (selectors.bot_performance_points); the daily volume of an account or
the fleet."""
from datetime import datetime
from decimal import Decimal

from django import template
from django.utils.html import format_html, format_html_join

from bots.templatetags.bots_format import plain_decimal

register = template.Library()

WIDTH, HEIGHT, PAD = 560, 150, 4
MAX_POINTS = 200  # a page of a few kB whatever the bot's age: at most one point per slice of the time span


def _thinned(points: list[tuple[datetime, Decimal]]) -> list[tuple[datetime, Decimal]]:
    """The last point of each of MAX_POINTS equal slices of the time span: the latest point is always kept."""
    first, span = points[0][0], (points[-1][0] - points[0][0]).total_seconds() or 1
    last_of_slice = {}
    for at, value in points:
        last_of_slice[int((at - first).total_seconds() / span * (MAX_POINTS - 1))] = (at, value)
    return list(last_of_slice.values())


@register.filter
def daily(days: list[dict], column: str) -> list[tuple]:
    """(day, value) points of one column of selectors.ledger_totals' `days`."""
    return [(row["day"], row[column]) for row in days]


def _label(value: Decimal) -> str:
    return f"{value:,.2f}"


@register.simple_tag
def line_chart(points: list[tuple[datetime, Decimal]], title: str):
    """An SVG line of (time, value) points placed by time, with the latest value, the value range and the time span
    written out; `data-last-value` is the latest value as the page's cards write it."""
    if not points:
        return format_html('<p class="chart-empty">{}: none reported yet.</p>', title)
    if len(points) > MAX_POINTS:
        points = _thinned(points)
    values = [value for _, value in points]
    low, high = min(min(values), Decimal(0)), max(max(values), Decimal(0))
    span = (high - low) or Decimal(1)
    start, seconds = points[0][0], (points[-1][0] - points[0][0]).total_seconds()

    def x(at) -> str:
        return f"{PAD + ((at - start).total_seconds() / seconds if seconds else 0) * (WIDTH - 2 * PAD):.1f}"

    def y(value) -> str:
        return f"{float(HEIGHT - PAD - (value - low) / span * (HEIGHT - 2 * PAD)):.1f}"
    coordinates = " ".join(f"{x(at)},{y(value)}" for at, value in points)
    if len(points) == 1:
        coordinates = f"{PAD},{y(values[0])} {WIDTH - PAD},{y(values[0])}"
    dots = format_html_join("", '<circle cx="{}" cy="{}" r="2"><title>{} UTC: {}</title></circle>',
                            ((x(at), y(value), at.strftime("%Y-%m-%d %H:%M:%S"), plain_decimal(value))
                             for at, value in points))
    return format_html(
        '<figure class="bot-chart" data-chart="{}" data-last-value="{}"><figcaption>{} <small>now {} · range {} to {}'
        ' · {} to {} UTC</small></figcaption><svg viewBox="0 0 {} {}" width="100%" role="img" aria-label="{}">'
        '<line x1="0" x2="{}" y1="{}" y2="{}" class="zero"/><polyline points="{}"/>{}</svg></figure>',
        title.lower().replace(" ", "-"), plain_decimal(values[-1]), title, plain_decimal(values[-1]),
        plain_decimal(low), plain_decimal(high), start.strftime("%Y-%m-%d %H:%M"),
        points[-1][0].strftime("%Y-%m-%d %H:%M"), WIDTH, HEIGHT, title, WIDTH, y(Decimal(0)), y(Decimal(0)),
        coordinates, dots,
    )

