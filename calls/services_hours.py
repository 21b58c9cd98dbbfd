"""Every write to business hours and their closed days (pages and API alike)."""

from django.db import transaction

from calls.models import BusinessHours


@transaction.atomic
def business_hours_save(*, form, company) -> BusinessHours:
    """Create or update hours from a valid BusinessHoursForm, closed days included."""
    hours = form.save(commit=False)
    hours.company = company
    hours.save()
    closed_days_set(hours, form.cleaned_data["closed_days_text"])
    return hours


def closed_days_set(hours: BusinessHours, days) -> None:
    """The hours' closed and special days become exactly `days` (SpecialDay: day, ranges, name): others are removed,
    the rest kept current."""
    wanted = {special.day: special for special in days}
    hours.closed_days.exclude(day__in=wanted).delete()
    existing = {closed.day: closed for closed in hours.closed_days.all()}
    for day, special in wanted.items():
        closed = existing.get(day)
        if closed is None:
            hours.closed_days.create(day=day, ranges=special.ranges, name=special.name)
        elif (closed.ranges, closed.name) != (special.ranges, special.name):
            closed.ranges, closed.name = special.ranges, special.name
            closed.save(update_fields=["ranges", "name"])


@transaction.atomic
def business_hours_delete(hours: BusinessHours) -> list[str]:
    """Delete the hours; the queues that used them are open at all times from now on. Returns those queues' names."""
    names = list(hours.queues.values_list("name", flat=True))
    hours.delete()
    return names
