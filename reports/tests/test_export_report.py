"""manage.py export_report: a table of the report as CSV, to standard output or a file, the page's rules for days."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

pytestmark = pytest.mark.django_db

DAY = ["--from", "2026-11-21", "--to", "2026-11-21"]


def export(*args, capsys) -> list[list[str]]:
    call_command("export_report", *args)
    return list(csv.reader(io.StringIO(capsys.readouterr().out.removeprefix("\ufeff"))))


def test_days_of_a_company_named_by_its_name(company_a, day_of_calls, capsys):
    table = export("--company", company_a.name, *DAY, "--language", "en", capsys=capsys)
    assert table == [
        [
            "Day",
            "Offered",
            "Answered",
            "Abandoned",
            "Abandon rate (%)",
            "ASA (s)",
            "AHT (s)",
            "Service level (%)",
            "After hours",
            "Overflowed",
        ],
        ["2026-11-21", "3", "2", "1", "33.3", "20", "95", "33.3", "0", "0"],
    ]


def test_agents_in_korean_by_default_to_a_file(company_a, day_of_states, tmp_path):
    path = tmp_path / "agents.csv"
    out = io.StringIO()
    call_command("export_report", "--company", str(company_a.pk), *DAY, "--table", "agents", "--output", str(path),
                 stdout=out)  # fmt: skip
    assert str(path) in out.getvalue()
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0][:2] == ["상담원", "아이디"]
    assert any(row[1] == "agent_a" for row in rows[1:])


def test_one_queue_by_its_number(company_a, queue_a, day_of_calls, capsys):
    assert export("--company", company_a.name, *DAY, "--queue", "7000", capsys=capsys)[1][1] == "3"
    with translation.override("en"), pytest.raises(CommandError, match="has no queue 7999"):
        call_command("export_report", "--company", company_a.name, *DAY, "--queue", "7999")


def test_without_days_it_is_yesterday(company_a, capsys):
    table = export("--company", company_a.name, capsys=capsys)
    assert len(table) == 2  # the header and one day


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--company", "Nobody Inc"], "No company 'Nobody Inc'"),
        (["--from", "2026-11-22", "--to", "2026-11-21"], "before the first day"),
        (["--from", "2026-01-01", "--to", "2026-11-21"], "at most 92 days"),
        (["--from", "21.11.2026"], "not a day written YYYY-MM-DD"),
    ],
)
def test_mistakes_are_said_and_nothing_is_written(company_a, args, message, tmp_path):
    arguments = args if args[0] == "--company" else ["--company", company_a.name, *args]
    with translation.override("en"), pytest.raises(CommandError, match=message):
        call_command("export_report", *arguments, "--output", str(tmp_path / "out.csv"))
    assert not (tmp_path / "out.csv").exists()
