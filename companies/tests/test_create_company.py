"""manage.py create_company: a company with its extension range and queues, or nothing and a list of reasons."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from calls.models import Queue
from companies.models import Company, PauseReason
from companies.services import company_create

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    with translation.override("en"):  # the form's field errors are translated; Korean is the default
        call_command("create_company", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_creates_the_company_with_its_range_queues_and_default_pause_reasons():
    output = run(
        "알파 콘택트",
        "--extensions",
        "1000-1099",
        "--queue",
        "5000=고객지원",
        "--queue",
        "5001",
        "--ring-timeout",
        "20",
    )
    company = Company.objects.get(name="알파 콘택트")
    assert (company.extension_start, company.extension_end, company.time_zone) == ("1000", "1099", "Asia/Seoul")
    queues = list(
        Queue.objects.filter(company=company).order_by("number").values_list("number", "name", "ring_timeout_seconds")
    )
    assert queues == [("5000", "고객지원", 20), ("5001", "5001", 20)]
    assert PauseReason.objects.filter(company=company, code="MISSED_OFFER").exists()
    assert "queue 5000: 고객지원" in output


def test_every_problem_is_listed_and_nothing_is_created(make_user):
    other = company_create(name="Beta", extension_start="2000", extension_end="2099")
    make_user(company=other, extension="2001")
    Queue.objects.create(company=other, name="Beta line", number="7000")
    with pytest.raises(CommandError) as refused:
        run(
            "Gamma", "--extensions", "2050-2150", "--time-zone", "Mars/Olympus",
            "--queue", "7000=Taken", "--queue", "2001=Agent", "--queue", "2060=Inside",
            "--queue", "8000", "--queue", "8000", "--queue", "x=Bad",
        )  # fmt: skip
    message = str(refused.value)
    for expected in [
        "Nothing created:",
        "time_zone: Use a time zone name",
        "extension_start: 2050-2150 overlaps Beta's 2000-2099.",
        "queue 7000: already another queue's number.",
        "queue 2001: This number is an agent's extension.",
        "queue 2001: This number lies in another company's extensions.",
        "queue 2060: inside the company's own extension range 2050-2150.",
        "queue 8000: given twice.",
        "queue x=Bad: write NUMBER=Name",
    ]:
        assert expected in message
    assert not Company.objects.filter(name="Gamma").exists()
    assert not Queue.objects.filter(number="8000").exists()


def test_a_backwards_or_malformed_range_is_refused():
    with pytest.raises(CommandError, match="extension_end: The last extension comes before the first."):
        run("Delta", "--extensions", "1099-1000")
    with pytest.raises(CommandError, match="--extensions: give the first and last extension"):
        run("Delta", "--extensions", "1000")
    assert not Company.objects.filter(name="Delta").exists()


def test_a_second_company_with_the_same_name_is_refused():
    run("Echo", "--extensions", "4000-4099")
    with pytest.raises(CommandError, match="name: A company named 'Echo' exists already"):
        run("Echo", "--extensions", "4100-4199")
