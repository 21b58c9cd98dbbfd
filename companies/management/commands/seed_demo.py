"""manage.py seed_demo: a demo company, its manager, six agents (extensions 1000-1005), a queue (5000), weekday
business hours (not given to the queue), a system admin.

Idempotent: whatever exists already is kept, whatever is missing is created, in one transaction. The demo sign-ins
are printed only by the run that creates them; later runs say the demo data is there. Refused under production
settings, where accounts with published passwords have no place.
"""

from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Role, User
from accounts.services import user_create
from calls.models import BusinessHours, Queue
from companies.models import Company
from companies.services import company_create

COMPANY_NAME = "데모 상담센터"
COMPANY_FIELDS = {
    "phone": "02-555-0100",
    "fax": "02-555-0101",
    "business_number": "123-45-00000",
    "address": "서울특별시 중구 세종대로 110",
    "extension_start": "1000",
    "extension_end": "1099",
}
QUEUE_NUMBER = "5000"
QUEUE_NAME = "대표 상담"
ADMIN = ("demo_admin", "Bukhansan-peak-2026")
MANAGER = ("demo_manager", "김", "지현", "Namsan-tower-2026")
# (username, last name, first name, extension, password)
AGENTS = [
    ("agent1000", "이", "서연", "1000", "Hangang-river-1000"),
    ("agent1001", "박", "민준", "1001", "Hangang-river-1001"),
    ("agent1002", "최", "하은", "1002", "Hangang-river-1002"),
    ("agent1003", "정", "도윤", "1003", "Hangang-river-1003"),
    ("agent1004", "강", "수아", "1004", "Hangang-river-1004"),
    ("agent1005", "조", "예준", "1005", "Hangang-river-1005"),
]


class Command(BaseCommand):
    help = "Create the demo company, manager, agents (extensions 1000-1005) and queue 5000; prints new sign-ins once."

    def handle(self, *args, **options):
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("seed_demo creates accounts with published passwords; it does not run in production.")
        with transaction.atomic():
            created = self._seed()
        if not created:
            self.stdout.write("The demo data exists already (its sign-ins were printed when it was created).")
            return
        self.stdout.write(self.style.SUCCESS(f"Demo data created for {COMPANY_NAME}."))
        self.stdout.write("Demo sign-ins (shown only now; change them before showing this server to anyone):")
        name_width = max(len(username) for username, _role, _extension, _password in created)
        password_width = max(len(password) for _username, _role, _extension, password in created)
        for username, role, extension, password in created:
            line = f"  {username:<{name_width}}  {password:<{password_width}}  {role}"
            self.stdout.write(line + (f" {extension}" if extension else ""))

    def _seed(self) -> list[tuple[str, str, str, str]]:
        """Creates what is missing; returns (username, role, extension, password) of each user created now."""
        company = Company.objects.filter(name=COMPANY_NAME).first()
        if company is None:
            company = company_create(name=COMPANY_NAME, **COMPANY_FIELDS)
        created = []
        username, password = ADMIN
        if not User.objects.filter(username=username).exists():
            user_create(username=username, password=password, role=Role.SYSTEM_ADMIN)
            created.append((username, str(Role.SYSTEM_ADMIN.label), "", password))
        username, last_name, first_name, password = MANAGER
        if not User.objects.filter(username=username).exists():
            user_create(
                username=username,
                password=password,
                role=Role.MANAGER,
                company=company,
                last_name=last_name,
                first_name=first_name,
                phone="010-5550-0100",
            )
            created.append((username, str(Role.MANAGER.label), "", password))
        agents = []
        for username, last_name, first_name, extension, password in AGENTS:
            agent = User.objects.filter(username=username).first()
            if agent is None:
                taken = User.objects.filter(extension=extension).first()
                if taken is not None:
                    raise CommandError(f"Extension {extension} belongs to {taken.username!r}, not a demo agent.")
                agent = user_create(
                    username=username,
                    password=password,
                    role=Role.AGENT,
                    company=company,
                    extension=extension,
                    last_name=last_name,
                    first_name=first_name,
                    phone=f"010-5550-{extension}",
                )
                created.append((username, str(Role.AGENT.label), extension, password))
            agents.append(agent)
        queue = Queue.objects.filter(number=QUEUE_NUMBER).first()
        if queue is None:
            queue = Queue.objects.create(company=company, name=QUEUE_NAME, number=QUEUE_NUMBER)
            queue.members.set(agents)
        elif queue.company_id != company.pk:
            raise CommandError(f"Queue number {QUEUE_NUMBER} belongs to another company ({queue.company}).")
        _demo_business_hours(company)
        return created


def _demo_business_hours(company) -> None:
    """Weekday hours with a lunch break and two holidays, to show the page; not given to queue 5000, so the demo's
    calls flow at any hour (give them to the queue on its page to see callers turned away after hours)."""
    hours, created = BusinessHours.objects.get_or_create(
        company=company,
        name="평일 상담",
        defaults=dict.fromkeys(("monday", "tuesday", "wednesday", "thursday", "friday"), "09:00-12:00, 13:00-18:00"),
    )
    if created:
        hours.closed_days.create(day=date(2026, 12, 25), name="성탄절")
        hours.closed_days.create(day=date(2027, 1, 1), name="신정")
