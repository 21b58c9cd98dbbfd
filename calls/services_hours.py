"""Every write to business hours and their closed days (pages and API alike)."""

from datetime import date

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


def closed_days_set(hours: BusinessHours, days: list[tuple[date, str]]) -> None:
    """The hours' closed days become exactly `days` (date, name): others are removed, names kept current."""
    wanted = dict(days)
    hours.closed_days.exclude(day__in=wanted).delete()
    existing = {closed.day: closed for closed in hours.closed_days.all()}
    for day, name in wanted.items():
        closed = existing.get(day)
        if closed is None:
            hours.closed_days.create(day=day, name=name)
        elif closed.name != name:
            closed.name = name
            closed.save(update_fields=["name"])


@transaction.atomic
def business_hours_delete(hours: BusinessHours) -> list[str]:
    """Delete the hours; the queues that used them are open at all times from now on. Returns those queues' names."""
    names = list(hours.queues.values_list("name", flat=True))
    hours.delete()
    return names
