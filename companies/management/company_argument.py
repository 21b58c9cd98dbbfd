"""The --company argument of management commands: a company's id or exact name, checked the same way everywhere."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from companies.models import Company
from pbx.ids import parse_id


def company_argument(value: str) -> Company:
    """The active company the value names (a number is read as an id first), or a CommandError saying why not."""
    company_id = parse_id(value)
    company = Company.objects.filter(pk=company_id).first() if company_id else None
    if company is None:
        company = _company_named(value)
    if company is None:
        raise CommandError(_("No company '%(company)s' (give its id or exact name).") % {"company": value})
    if not company.is_active:
        raise CommandError(_("%(company)s is deactivated.") % {"company": company.name})
    return company


def _company_named(name: str) -> Company | None:
    # Names are unique, ignoring capitals, since the numbering rules; a database from before may still hold two,
    # and picking one of them would act on a company chosen by chance.
    named = list(Company.objects.filter(name=name).order_by("pk"))
    if len(named) > 1:
        message = _("%(count)d companies are named '%(company)s' (ids %(ids)s): give the id of the one you mean.")
        ids = ", ".join(str(company.pk) for company in named)
        raise CommandError(message % {"count": len(named), "company": name, "ids": ids})
    return named[0] if named else None
