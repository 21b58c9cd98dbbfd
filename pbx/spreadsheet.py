"""CSV cells that a spreadsheet shows, never runs: the call log's export and the reports' tables."""

# A cell a spreadsheet would run as a formula starts with one of these (OWASP: CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PHONE_CHARACTERS = frozenset("0123456789+-() .")


def spreadsheet_safe(value):
    """Text as a spreadsheet shows it, never runs it: a leading quote makes `=HYPERLINK(…)` in a name plain text.
    Phone numbers such as +82-10-… are left as they are (no formula can be written with their characters)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS) and not set(value) <= _PHONE_CHARACTERS:
        return "'" + value
    return value
