"""manage.py createadmin: scripts give the password through the environment or stdin, never the command line."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Role, User

BASE_DIR = Path(__file__).resolve().parents[2]
STRONG = "violet-harbour-lantern-42"


def createadmin(*args, stdin: str | None = None) -> str:
    out = io.StringIO()
    if stdin is not None:
        sys_stdin, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        call_command("createadmin", *args, stdout=out)
    finally:
        if stdin is not None:
            sys.stdin = sys_stdin
    return out.getvalue()


def test_password_from_an_environment_variable(db, monkeypatch):
    monkeypatch.setenv("PBX_ADMIN_PASSWORD", STRONG)
    output = createadmin("--username", "root", "--email", "root@example.com", "--password-env", "PBX_ADMIN_PASSWORD")
    admin = User.objects.get(username="root")
    assert (admin.role, admin.is_staff, admin.is_superuser, admin.company) == (Role.SYSTEM_ADMIN, True, True, None)
    assert admin.email == "root@example.com"
    assert admin.check_password(STRONG)
    assert admin.password.startswith("argon2_peppered$argon2id$")
    assert "'root' created" in output


def test_password_from_stdin(db):
    createadmin("--username", "root", "--password-stdin", stdin=STRONG + "\n")
    assert User.objects.get(username="root").check_password(STRONG)


def test_an_existing_username_is_a_clear_error(admin_user, monkeypatch):
    monkeypatch.setenv("PBX_ADMIN_PASSWORD", STRONG)
    with pytest.raises(CommandError, match="'root' already exists"):
        createadmin("--username", "root", "--password-env", "PBX_ADMIN_PASSWORD")


def test_a_weak_password_is_refused_and_nothing_is_created(db, monkeypatch):
    monkeypatch.setenv("PBX_ADMIN_PASSWORD", "12345678")
    with pytest.raises(CommandError, match="Not created"):
        createadmin("--username", "root", "--password-env", "PBX_ADMIN_PASSWORD")
    assert not User.objects.exists()


def test_a_missing_environment_variable_is_named(db, monkeypatch):
    monkeypatch.delenv("PBX_NO_SUCH_VARIABLE", raising=False)
    with pytest.raises(CommandError, match="PBX_NO_SUCH_VARIABLE is not set"):
        createadmin("--username", "root", "--password-env", "PBX_NO_SUCH_VARIABLE")


def test_an_empty_stdin_is_refused(db):
    with pytest.raises(CommandError, match="No password on standard input"):
        createadmin("--username", "root", "--password-stdin", stdin="")


def test_no_input_needs_a_username_and_a_password_source(db):
    with pytest.raises(CommandError, match="--username is required"):
        createadmin("--no-input")
    with pytest.raises(CommandError, match="never on the command line"):
        createadmin("--no-input", "--username", "root")


def test_there_is_no_password_option(db):
    with pytest.raises(CommandError, match="unrecognized arguments"):
        createadmin("--username", "root", "--password", STRONG)


def test_without_a_terminal_it_asks_for_the_non_interactive_options():
    env = {**os.environ, "TELEPHONY_ENABLED": "0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "createadmin"],
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "use --no-input with --username" in result.stderr


def test_interactive_prompts_retry_a_weak_password(db, monkeypatch):
    answers = iter(["12345", "12345", STRONG, "different", STRONG, STRONG])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    monkeypatch.setattr("builtins.input", lambda prompt="": {"Username: ": "boss"}.get(prompt, ""))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    err = io.StringIO()
    call_command("createadmin", stdout=io.StringIO(), stderr=err)
    assert User.objects.get(username="boss").check_password(STRONG)
    assert "Not created" in err.getvalue() and "differ" in err.getvalue()


def test_a_malformed_email_is_refused(db, monkeypatch):
    monkeypatch.setenv("PBX_ADMIN_PASSWORD", STRONG)
    with pytest.raises(CommandError, match="'not-an-email' is not an email address"):
        createadmin("--username", "root", "--email", "not-an-email", "--password-env", "PBX_ADMIN_PASSWORD")
    assert not User.objects.exists()


def test_djangos_createsuperuser_also_makes_a_system_admin(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG)
    call_command("createsuperuser", "--noinput", "--username", "root2", "--email", "r@x.example", stdout=io.StringIO())
    admin = User.objects.get(username="root2")
    assert (admin.role, admin.is_staff, admin.company) == (Role.SYSTEM_ADMIN, True, None)
    assert admin.check_password(STRONG)
