"""Database ids typed into URLs and forms."""

# PostgreSQL's bigint: a larger number is no id of ours, and the database would refuse to compare with it.
MAX_ID = 2**63 - 1


def parse_id(raw) -> int | None:
    """The id the text spells, or None. Only ASCII digits: str.isdigit() also accepts "²", which int() refuses."""
    text = str(raw or "")
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
