"""How money is written wherever it leaves the bridge, the API, the CSV and the panel alike: a plain decimal string,
`3019.2`, never padded to the columns' 18 places, never an exponent (issue 18)."""
from decimal import Decimal


def plain_decimal(value) -> str | None:
    """64148.000000000000000000 -> '64148', 1E+3 -> '1000', 0E-18 and -0 -> '0'. Exact: format "f" writes every
    digit (normalize() would round a 38-digit column to Decimal's 28-digit context). A float is written as its
    shortest repr, 3.535, not its binary expansion."""
    if value is None:
        return None
    text = format(value if isinstance(value, Decimal) else Decimal(str(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
