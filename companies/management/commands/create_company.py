"""Create a company with its extension range and queue numbers, for the people who run the platform."""

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from calls.forms import QueueForm
from calls.models import Queue
from calls.services_queues import queue_save
from companies.forms import CompanyForm
from companies.numbering import in_range, queue_number_problems
from companies.services import company_create

_RANGE = re.compile(r"^(\d{2,10})-(\d{2,10})$")
_QUEUE = re.compile(r"^(\d{2,20})(?:=(.+))?$")
QUEUE_NAME_LENGTH = Queue._meta.get_field("name").max_length


def queue(number: str, problem: str) -> str:
    return _("queue %(number)s: %(problem)s") % {"number": number, "problem": problem}


class Command(BaseCommand):
    help = (
        "Create a company with its extension range and queues, e.g. "
        "create_company 'Alpha Contact' --extensions 1000-1099 --queue 5000=Support --queue 5001=Sales"
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--extensions", required=True, help="first-last agent extension, e.g. 1000-1099")
        parser.add_argument("--queue", action="append", default=[], help="NUMBER=Name (repeatable)")
        parser.add_argument("--phone", default="")
        parser.add_argument("--business-number", default="")
        parser.add_argument("--address", default="")
        parser.add_argument("--time-zone", default="Asia/Seoul")
        parser.add_argument("--wrapup", type=int, default=10, help="wrap-up seconds after direct calls")
        parser.add_argument("--ring-timeout", type=int, default=15, help="each queue's ring timeout (s)")
        parser.add_argument("--max-wait", type=int, default=300, help="each queue's max wait (s)")

    def handle(self, *args, **options):
        match = _RANGE.match(options["extensions"])
        if match is None:
            raise CommandError(_("--extensions: give the first and last extension, e.g. 1000-1099 (2 to 10 digits)."))
        start, end = match.groups()
        form = CompanyForm(
            data={
                "name": options["name"],
                "address": options["address"],
                "time_zone": options["time_zone"],
                "extension_start": start,
                "extension_end": end,
                "wrapup_seconds": options["wrapup"],
                "is_active": True,
                "business_number": options["business_number"],
                "phone": options["phone"],
                "fax": "",
            }
        )
        errors = [f"{field}: {message}" for field, messages in form.errors.items() for message in messages]
        queues = self._queues(options["queue"], start, end, errors)
        if errors:
            raise CommandError(_("Nothing created:") + "\n  " + "\n  ".join(errors))

        with transaction.atomic():
            company = company_create(**form.values())
            for number, name in queues:
                queue_form = QueueForm(
                    data={
                        "name": name,
                        "number": number,
                        "ring_timeout_seconds": options["ring_timeout"],
                        "wrapup_seconds": options["wrapup"],
                        "max_wait_seconds": options["max_wait"],
                        "service_level_seconds": 20,
                        "is_active": True,
                    },
                    company=company,
                )
                if not queue_form.is_valid():
                    problems = "; ".join(f"{f}: {' '.join(m)}" for f, m in queue_form.errors.items())
                    raise CommandError(_("Nothing created:") + " " + queue(number, problems))
                queue_save(form=queue_form, company=company)
        message = _("Created company %(company)s (id %(id)d), extensions %(start)s-%(end)s.")
        self.stdout.write(
            self.style.SUCCESS(message % {"company": company.name, "id": company.pk, "start": start, "end": end})
        )
        for number, name in queues:
            self.stdout.write("  " + _("queue %(number)s: %(problem)s") % {"number": number, "problem": name})
        self.stdout.write(_("Next: import its agents (manage.py import_agents), then render_asterisk_config --reload."))

    def _queues(self, raw: list[str], start: str, end: str, errors: list[str]) -> list[tuple[str, str]]:
        queues, seen = [], set()
        for item in raw:
            match = _QUEUE.match(item.strip())
            if match is None:
                errors.append(queue(item, _("write NUMBER=Name with a number of 2 to 20 digits.")))
                continue
            number, name = match.group(1), (match.group(2) or "").strip() or match.group(1)
            if number in seen:
                errors.append(queue(number, _("given twice.")))
            elif in_range(number, start, end):
                message = _("inside the company's own extension range %(start)s-%(end)s.")
                errors.append(queue(number, message % {"start": start, "end": end}))
            elif Queue.objects.filter(number=number).exists():
                errors.append(queue(number, _("already another queue's number.")))
            elif len(name) > QUEUE_NAME_LENGTH:
                errors.append(queue(number, _("the name is longer than %(n)d characters.") % {"n": QUEUE_NAME_LENGTH}))
            else:
                errors += [queue(number, problem) for problem in queue_number_problems(number)]
            seen.add(number)
            queues.append((number, name))
        return queues
