"""How the panel writes numbers and times: plain decimals and relative times with the exact time on hover."""
from datetime import UTC

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

from bots.money import plain_decimal

register = template.Library()


# The API's and the CSV's own function: the panel writes money as they do.
register.filter("plain_decimal", plain_decimal)


@register.filter
def relative_time(value, now=None):
    """'3 minutes ago' with the exact UTC time in the title (and a <time> element for copying)."""
    if value is None:
        return None
    now = now or timezone.now()
    words = f"{timesince(value, now, depth=1)} ago" if value <= now else f"in {timeuntil(value, now, depth=1)}"
    exact = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), exact, words)


@register.filter
def abbreviated(text: str | None, keep: int = 6):
    """Mint addresses and exchange ids are long: 'So1111…111112' with the whole value on hover (the CSV has it)."""
    if not text or len(text) <= 2 * keep + 3:
        return text
    return format_html('<span title="{}">{}…{}</span>', text, text[:keep], text[-keep:])


@register.filter
def short_pair(pair: str | None):
    """BASE-QUOTE with each long side abbreviated (Jupiter pairs are two 44-character mints)."""
    if not pair or len(pair) <= 24:
        return pair
    short = "-".join(side if len(side) <= 12 else f"{side[:5]}…{side[-4:]}" for side in pair.split("-", 1))
    return format_html('<span title="{}">{}</span>', pair, short)
