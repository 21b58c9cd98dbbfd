"""Page links that say where the last page ended: a (time, id) pair, signed so a client cannot forge one, and salted
per list (and order) so a cursor of one list means nothing in another. Rows added or removed meanwhile make no row
come twice or be skipped, as an offset would."""

import binascii
import json
from datetime import datetime

from django.core import signing


class InvalidCursor(ValueError):
    """Not a cursor this list gave out: made up, changed, or another list's."""


def cursor_encode(moment: datetime, pk: int, *, salt: str) -> str:
    return signing.dumps([moment.isoformat(), pk], salt=salt, compress=False)


def cursor_decode(cursor: str, *, salt: str) -> tuple[datetime, int]:
    """The (time, id) of the last row the page showed."""
    try:
        at, pk = signing.loads(cursor, salt=salt)
        moment = datetime.fromisoformat(at)
    except (signing.BadSignature, ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeError):
        raise InvalidCursor(cursor) from None
    if moment.tzinfo is None or not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**63:
        raise InvalidCursor(cursor)
    return moment, pk
