"""Who may hold a number: the rules shared by every way of giving out agent extensions, queue numbers and companies'
extension ranges (console, API, admin, commands, import).

One dialplan serves every company, so a number must mean one thing: an agent's extension lies in that agent's
company's range (and in no other company's), a queue's number lies in no company's range and is nobody's extension,
and two companies' ranges never overlap.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from companies.models import Company


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # isdigit() alone also takes "²", which int() refuses


def in_range(number: str, start: str, end: str) -> bool:
    """Whether the number lies in start-end; a range not fully given holds nothing."""
    if not (_digits(number) and _digits(start) and _digits(end)):
        return False
    return int(start) <= int(number) <= int(end)


def range_owner(number: str, *, excluding: int | None = None) -> Company | None:
    """The company whose extension range holds the number."""
    companies = Company.objects.exclude(extension_start="").exclude(extension_end="").exclude(pk=excluding)
    return next((c for c in companies if in_range(number, c.extension_start, c.extension_end)), None)


def extension_problems(extension: str, *, company: Company | None) -> list[str]:
    """Why an agent of `company` may not have this extension (uniqueness among agents is the model's own check)."""
    from calls.models import Queue

    if not _digits(extension):
        return []  # its format is the validators' to judge
    problems = []
    if Queue.objects.filter(number=extension).exists():
        problems.append(_("This number is a queue's number."))
    if company is not None and company.extension_start and company.extension_end:
        if not in_range(extension, company.extension_start, company.extension_end):
            values = {"start": company.extension_start, "end": company.extension_end}
            problems.append(_("The company's extensions run from %(start)s to %(end)s.") % values)
    elif (owner := range_owner(extension, excluding=company.pk if company else None)) is not None:
        problems.append(_belongs_to(owner))
    return problems


def queue_number_problems(number: str, company_id: int | None = None) -> list[str]:
    """Why a queue of that company may not have this number (uniqueness among queues is the model's own check)."""
    from accounts.models import User

    problems = []
    if User.objects.filter(extension=number).exists():
        problems.append(_("This number is an agent's extension."))
    if (owner := range_owner(number)) is not None:
        problems.append(_belongs_to(owner, company_id))
    return problems


def range_problems(company: Company) -> dict[str, list[str]]:
    """Why the company may not have its extension range, by field."""
    from accounts.models import User
    from calls.models import Queue

    start, end = company.extension_start or "", company.extension_end or ""
    if not start and not end:
        return {}
    if not (start and end):
        return {"extension_end": [_("Give both the first and the last extension, or neither.")]}
    if not (_digits(start) and _digits(end)):
        return {}  # the fields' own validators say so
    if int(start) > int(end):
        return {"extension_end": [_("The last extension comes before the first.")]}
    problems = []
    for other in Company.objects.exclude(extension_start="").exclude(extension_end="").exclude(pk=company.pk):
        if in_range(start, other.extension_start, other.extension_end) or in_range(other.extension_start, start, end):
            message = _("%(start)s-%(end)s overlaps %(company)s's %(other_start)s-%(other_end)s.")
            values = {"start": start, "end": end, "company": other.name}
            values.update(other_start=other.extension_start, other_end=other.extension_end)
            problems.append(message % values)
    agents = User.objects.exclude(extension=None)
    own = agents.filter(company=company) if company.pk else agents.none()
    outside = sorted(e for e in own.values_list("extension", flat=True) if not in_range(e, start, end))
    if outside:
        message = _("%(count)d of this company's users have extensions outside it, such as %(extension)s.")
        problems.append(message % {"count": len(outside), "extension": outside[0]})
    others = agents.exclude(company=company) if company.pk else agents
    taken = [e for e in others.values_list("extension", flat=True) if in_range(e, start, end)]
    queues = [n for n in Queue.objects.values_list("number", flat=True) if in_range(n, start, end)]
    if taken or queues:
        message = _("It holds numbers already in use elsewhere, such as %(number)s.")
        problems.append(message % {"number": min(taken + queues, key=int)})
    return {"extension_start": problems} if problems else {}


def _belongs_to(owner: Company, company_id: int | None = None) -> str:
    if owner.pk == company_id:
        message = _("This number lies in the company's own extensions %(start)s-%(end)s.")
        return message % {"start": owner.extension_start, "end": owner.extension_end}
    # Not the other company's name or range: a manager probing numbers would map every tenant (QA).
    return str(_("This number lies in another company's extensions."))
