"""How the console writes durations and rates (1:05:09, 4:07, 83.4 %), phone numbers (010-1234-5678), timeline
entries and hang-up causes."""

import math

from django import template
from django.utils.formats import number_format

from calls import labels
from pbx.phone_display import phone_display

register = template.Library()


@register.filter
def duration(seconds) -> str:
    if seconds is None or seconds == "":
        return "–"
    total = max(0, int(round(float(seconds))))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def percent(ratio) -> str:
    if ratio is None:
        return "–"
    # Rounded first: number_format alone cuts 11.76 to 11.7.
    return f"{number_format(round(ratio * 100, 1), 1)} %"


@register.filter
def phone(number) -> str:
    return phone_display(number)


@register.filter
def lookup(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def elapsed(since, now) -> str:
    """Time from `since` to `now` as a duration, the value a live timer starts from."""
    if not since or not now:
        return "–"
    return duration((now - since).total_seconds())


@register.filter
def seconds_until(moment, now) -> int:
    """Whole seconds from `now` to `moment` (0 once passed): when a panel that shows the clock's doing is read again."""
    return max(0, math.ceil((moment - now).total_seconds())) if moment and now else 0


@register.filter
def timeline_label(kind: str) -> str:
    return labels.timeline_label(kind)


@register.filter
def hangup_cause(cause, text: str = "") -> str:
    return labels.hangup_cause_label(cause, text)
