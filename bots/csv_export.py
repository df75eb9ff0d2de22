"""CSV downloads (the API's /trades.csv, the panel's daily report): streamed, with cells a spreadsheet would run as
a formula escaped."""
import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from itertools import chain

from django.http import StreamingHttpResponse

from bots.money import plain_decimal

# A cell a spreadsheet would run as a formula: one starting with =, +, -, @ (spreadsheets skip blanks and control
# characters before them), a tab or a carriage return (OWASP, CSV injection).
FORMULA = re.compile(r"[\s\x00-\x1f\x7f]*[=+\-@]|[\t\r]")


class Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value):
        return value


def safe_cell(value):
    """Money as the API writes it (bots/money.py); text kept from spreadsheet apps running it as a formula (values
    come from exchanges and users)."""
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, str) and FORMULA.match(value):
        return "'" + value
    return value


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> StreamingHttpResponse:
    writer = csv.writer(Echo())
    lines = chain([writer.writerow(header)], (writer.writerow([safe_cell(v) for v in row]) for row in rows))
    response = StreamingHttpResponse(lines, content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
