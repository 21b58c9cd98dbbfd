"""manage.py import_agents: a good file creates everyone with a generated password; a bad one creates nobody."""

import csv
import io
import re
import stat
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from accounts.models import Role, User
from calls.models import Queue
from companies.models import Company
from companies.services import company_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def center(make_user):
    company = company_create(name="Seoul Center", extension_start="1000", extension_end="1099")
    make_user(company=company, username="taken", extension="1050")
    Queue.objects.create(company=company, name="Support", number="1098")
    return company


def run(tmp_path, text, *args, encoding="utf-8"):
    path = tmp_path / "agents.csv"
    path.write_bytes(text.encode(encoding))
    out = StringIO()
    with translation.override("en"):  # Korean is the default language of commands too
        call_command("import_agents", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


GOOD = """username,name,extension,role,email,phone
minji,김민지,1001,AGENT,minji@example.com,010-1234-5678
junho,이준호,1002,상담원,,
boss,박팀장,,manager,boss@example.com,
"""


def test_a_good_file_creates_every_user_with_a_password_that_signs_in(tmp_path, center, client):
    output = run(tmp_path, GOOD, "--company", "Seoul Center")
    assert "Created 3 user(s) in Seoul Center." in output
    minji = User.objects.get(username="minji")
    assert (minji.role, minji.extension, minji.company, minji.first_name) == (Role.AGENT, "1001", center, "김민지")
    assert minji.phone == "010-1234-5678" and minji.sip_secret  # the phone gets a SIP secret
    assert User.objects.get(username="boss").role == Role.MANAGER
    passwords = {line.split("\t")[0].strip(): line.split("\t")[2] for line in output.splitlines() if "\t" in line}
    assert set(passwords) == {"minji", "junho", "boss"}
    assert client.login(username="minji", password=passwords["minji"])


def test_passwords_can_go_to_a_file_readable_by_its_owner_only(tmp_path, center):
    out_path = tmp_path / "passwords.csv"
    output = run(tmp_path, GOOD, "--company", str(center.pk), "--passwords-out", str(out_path))
    with out_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["username"] for row in rows] == ["minji", "junho", "boss"]
    assert all(len(row["password"]) == 16 for row in rows)
    assert stat.S_IMODE(out_path.stat().st_mode) == 0o600
    assert rows[0]["password"] not in output


def test_every_bad_row_is_reported_with_its_line_and_nobody_is_created(tmp_path, center):
    text = (
        "username,name,extension,role\n"
        "ok1,Good One,1001,AGENT\n"  # line 2: fine, still not created
        "bad ext,Spaces,12a,AGENT\n"  # line 3: username and extension
        "dup,First,1003,AGENT\n"  # line 4
        "dup,Second,1003,AGENT\n"  # line 5: username and extension repeat line 4
        "taken,In DB,1050,AGENT\n"  # line 6: both exist
        "far,Far Away,2000,AGENT\n"  # line 7: outside 1000-1099
        "who,Unknown Role,1007,CEO\n"  # line 8
        ",No Username,1008,AGENT\n"  # line 9
        "q,Queue Number,1098,AGENT\n"  # line 10
        '"multi","Two\nLines",1010,AGENT\n'  # lines 11-12: fine
        "short,Too Few\n"  # line 13
    )
    with pytest.raises(CommandError) as refused:
        run(tmp_path, text, "--company", "Seoul Center")
    message = str(refused.value)
    assert message.startswith("Nothing imported:")
    for expected in [
        "line 3: username 'bad ext' may hold only",
        "line 3: extension '12a' is not 2 to 10 digits.",
        "line 5: username 'dup' repeats line 4.",
        "line 5: extension 1003 repeats line 4.",
        "line 6: username 'taken' exists already.",
        "line 6: extension 1050 is already assigned.",
        "line 7: extension 2000: The company's extensions run from 1000 to 1099.",
        "line 8: role 'CEO' is unknown",
        "line 9: username is missing.",
        "line 10: extension 1098: This number is a queue's number.",
        "line 13: 2 fields, the header has 4.",
    ]:
        assert expected in message
    assert "line 2:" not in message and "line 11:" not in message
    assert not User.objects.filter(username__in=["ok1", "multi", "dup", "far"]).exists()


def test_an_agent_needs_an_extension_but_a_manager_does_not(tmp_path, center):
    with pytest.raises(CommandError, match="line 2: extension is missing"):
        run(tmp_path, "username,name,extension,role\nnophone,No Phone,,AGENT\n", "--company", "Seoul Center")


def test_a_password_column_is_refused_rather_than_silently_ignored(tmp_path, center):
    with pytest.raises(CommandError, match="unknown column.*password.*passwords are generated"):
        run(tmp_path, "username,name,extension,role,password\na,B,1001,AGENT,hunter2\n", "--company", "Seoul Center")


def test_a_username_differing_only_in_case_counts_as_taken(tmp_path, center):
    with pytest.raises(CommandError, match="line 2: username 'TAKEN' exists already"):
        run(tmp_path, "username,name,extension,role\nTAKEN,Shout,1004,AGENT\n", "--company", "Seoul Center")


def test_a_korean_excel_file_is_named_as_such_and_reads_with_its_encoding(tmp_path, center):
    text = "username,name,extension,role\nsuji,배수지,1005,상담원\n"
    with pytest.raises(CommandError, match="not utf-8-sig.*--encoding cp949"):
        run(tmp_path, text, "--company", "Seoul Center", encoding="cp949")
    run(tmp_path, text, "--company", "Seoul Center", "--encoding", "cp949", encoding="cp949")
    assert User.objects.get(username="suji").first_name == "배수지"


def test_dry_run_checks_and_creates_nobody(tmp_path, center):
    assert "3 user(s) would be created" in run(tmp_path, GOOD, "--company", "Seoul Center", "--dry-run")
    assert not User.objects.filter(username="minji").exists()


def test_an_unknown_company_is_a_clear_error(tmp_path, center):
    with pytest.raises(CommandError, match="No company 'Nowhere'"):
        run(tmp_path, GOOD, "--company", "Nowhere")


def test_the_file_can_come_on_standard_input_as_from_docker_compose_exec(center, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(GOOD.encode("utf-8"))))
    out = StringIO()
    with translation.override("en"):
        call_command("import_agents", "-", "--company", "Seoul Center", stdout=out)
    assert "Created 3 user(s)" in out.getvalue()


def test_problems_are_reported_in_korean_by_default(tmp_path, center):
    path = tmp_path / "agents.csv"
    path.write_text("username,name,extension,role\nfar,Far Away,2000,AGENT\n", encoding="utf-8")
    with translation.override("ko"), pytest.raises(CommandError) as refused:
        call_command("import_agents", str(path), "--company", "Seoul Center", stdout=StringIO())
    assert "2행: 내선 2000: 이 회사의 내선 번호는 1000부터 1099까지입니다." in str(refused.value)


def test_a_passwords_file_that_cannot_be_created_stops_the_import_before_anyone_is_created(tmp_path, center):
    out_path = tmp_path / "no" / "such" / "dir" / "passwords.csv"
    with pytest.raises(CommandError, match=r"Cannot create .*passwords\.csv: No such file or directory\. Nobody"):
        run(tmp_path, GOOD, "--company", "Seoul Center", "--passwords-out", str(out_path))
    assert not User.objects.filter(username__in=["minji", "junho", "boss"]).exists()
    # Nothing to undo: the same command with a path that works creates everyone.
    run(tmp_path, GOOD, "--company", "Seoul Center", "--passwords-out", str(tmp_path / "passwords.csv"))
    assert User.objects.filter(username__in=["minji", "junho", "boss"]).count() == 3


def test_an_import_that_fails_leaves_no_empty_passwords_file_behind(tmp_path, center, monkeypatch):
    def database_gone(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("accounts.management.commands.import_agents.agents_import", database_gone)
    out_path = tmp_path / "passwords.csv"
    with pytest.raises(RuntimeError):
        run(tmp_path, GOOD, "--company", "Seoul Center", "--passwords-out", str(out_path))
    assert not out_path.exists()


def test_two_companies_of_the_same_name_are_refused_with_their_ids(tmp_path, center):
    namesake = Company.objects.create(name="Seoul Center")  # from before names had to differ
    with pytest.raises(CommandError) as refused:
        run(tmp_path, GOOD, "--company", "Seoul Center")
    expected = (
        f"2 companies are named 'Seoul Center' (ids {center.pk}, {namesake.pk}): give the id of the one you mean."
    )
    assert str(refused.value) == expected
    assert not User.objects.filter(username="minji").exists()
    run(tmp_path, GOOD, "--company", str(center.pk))
    assert User.objects.get(username="minji").company == center


LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 63]) + ".com"  # 260: validate_email allows 320


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (f"minji,Kim,1001,AGENT,{LONG_EMAIL},", "line 2: email is longer than 254 characters."),
        (f"{'u' * 151},Kim,1001,AGENT,,", "line 2: username is longer than 150 characters."),
        (f"minji,{'김' * 151},1001,AGENT,,", "line 2: name is longer than 150 characters."),
        ("minji,Kim,10010010010,AGENT,,", "line 2: extension is longer than 10 characters."),
        ("minji,Kim\x00Minji,1001,AGENT,,", "line 2: name holds a NUL character (byte 0), which cannot be stored."),
        ("min\x00ji,Kim,1001,AGENT,,", "line 2: username holds a NUL character (byte 0), which cannot be stored."),
        ("minji,Kim,1001,AGENT,minji@example.com\x00,", "line 2: email holds a NUL character"),
    ],
    ids=["long-email", "long-username", "long-name", "long-extension", "nul-name", "nul-username", "nul-email"],
)
def test_a_value_the_database_cannot_hold_is_named_by_its_line_even_in_a_dry_run(tmp_path, center, row, expected):
    text = "username,name,extension,role,email,phone\n" + row + "\n"
    for dry_run in (["--dry-run"], []):
        with pytest.raises(CommandError) as refused:
            run(tmp_path, text, "--company", "Seoul Center", *dry_run)
        assert expected in str(refused.value)
        # Said once: the format checks stay quiet about a value already refused.
        assert not re.search("may hold only|is not 2 to 10 digits|is not an email address", str(refused.value))
    assert not User.objects.filter(company=center).exclude(username="taken").exists()
