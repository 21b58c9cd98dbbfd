"""A call's note: what the agent (or a manager) wrote about it. Whoever may see a call may write its note."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from calls.models import NOTE_MAX_CHARS, Call, CallNote


@transaction.atomic
def call_note_save(*, call: Call, text: str, by: User) -> CallNote | None:
    """Set the note of a call `by` may see (Call.objects.visible_to; raises Call.DoesNotExist otherwise). An empty
    text removes it. Raises ValidationError for a text over NOTE_MAX_CHARS: cutting it would lose what was typed."""
    if not Call.objects.visible_to(by).filter(pk=call.pk).exists():
        raise Call.DoesNotExist(f"call {call.pk} is not visible to user {by.pk}")
    text = (text or "").strip()
    if len(text) > NOTE_MAX_CHARS:
        raise ValidationError(
            {"text": _("A note has at most %(max)d characters (this one has %(count)d).")
             % {"max": NOTE_MAX_CHARS, "count": len(text)}}
        )  # fmt: skip
    if not text:
        CallNote.objects.filter(call=call).delete()
        return None
    note, _created = CallNote.objects.update_or_create(call=call, defaults={"text": text, "updated_by": by})
    return note
