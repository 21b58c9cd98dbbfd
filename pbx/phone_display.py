"""How a phone number is shown to people: grouped as Koreans write them (010-1234-5678, 02-123-4567, 1588-1234).

Numbers are stored as they came (Asterisk's caller id is bare digits); only their display is grouped. What is not a
Korean number of a known shape (an extension, a foreign number, a caller id with letters) is shown unchanged, so
nothing is ever hidden or rewritten wrongly.
"""

import re

# Only digits and the separators people type may be regrouped; anything else is somebody's text, kept as it is.
_REGROUPABLE = re.compile(r"^\+?[\d\s().-]+$")

# Two-digit area code: Seoul. Three-digit prefixes: the other areas, mobiles, internet phones (070), toll-free (080)
# and paid information lines (060).
_SEOUL = "02"
_THREE_DIGIT_PREFIXES = frozenset(
    {"031", "032", "033", "041", "042", "043", "044", "051", "052", "053", "054", "055", "061", "062", "063", "064",
     "010", "011", "016", "017", "018", "019", "070", "080", "060"}
)  # fmt: skip
# Personal numbers (0502–0508) have a four-digit prefix.
_FOUR_DIGIT_PREFIXES = frozenset({"0502", "0503", "0504", "0505", "0506", "0507", "0508"})
# Nationwide representative numbers: 1588-1234, 1544-…, 1600-…, 1800-…
_REPRESENTATIVE = re.compile(r"^1[5-9]\d{6}$")


def phone_display(value: str | None) -> str:
    """The number grouped with hyphens; '+82 …' stays international ('+82 10-1234-5678'). '' for nothing."""
    if not value:
        return ""
    text = value.strip()
    if not _REGROUPABLE.match(text):
        return value
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        if not digits.startswith("82"):
            return value  # another country's: its own grouping is not ours to guess
        domestic = _domestic(_with_trunk_zero(digits[2:]))
        return f"+82 {domestic[1:]}" if domestic is not None else value
    if _REPRESENTATIVE.match(digits):
        return f"{digits[:4]}-{digits[4:]}"
    domestic = _domestic(digits)
    return domestic if domestic is not None else value


def _with_trunk_zero(national: str) -> str:
    """'+82 (0)10…' keeps its trunk 0 once, not twice."""
    return national if national.startswith("0") else "0" + national


def _domestic(digits: str) -> str | None:
    """0XX-XXX(X)-XXXX for a domestic number of a known prefix and length, else None."""
    if digits.startswith(_SEOUL) and len(digits) in (9, 10):
        prefix = _SEOUL
    elif digits[:4] in _FOUR_DIGIT_PREFIXES and len(digits) in (11, 12):
        prefix = digits[:4]
    elif digits[:3] in _THREE_DIGIT_PREFIXES and len(digits) in (10, 11):
        prefix = digits[:3]
    else:
        return None
    subscriber = digits[len(prefix) :]
    return f"{prefix}-{subscriber[:-4]}-{subscriber[-4:]}"
