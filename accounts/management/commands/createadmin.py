"""manage.py createadmin: create a system admin, by prompts or (for scripts) from options.

The password never goes on the command line, where `ps` and shell history would keep it: it is typed at a prompt,
read from an environment variable named by --password-env, or read from standard input with --password-stdin.
"""

import getpass
import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import IntegrityError

from accounts.models import Role, User
from accounts.services import user_create


def _messages(error: ValidationError) -> str:
    return " ".join(error.messages)


class Command(BaseCommand):
    help = (
        "Create a system admin (Django admin and every company). Prompts by default; for scripts give --no-input "
        "with --username and --password-env VAR or --password-stdin."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # No abbreviations: `--password SECRET` must fail, not be taken as --password-env or --password-stdin.
        return super().create_parser(prog_name, subcommand, allow_abbrev=False, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--username")
        parser.add_argument("--email", default="")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--password-env", metavar="VAR", help="Read the password from this environment variable.")
        source.add_argument("--password-stdin", action="store_true", help="Read the password from standard input.")
        parser.add_argument(
            "--no-input",
            "--noinput",
            dest="interactive",
            action="store_false",
            help="Never prompt (implied by --password-env and --password-stdin).",
        )

    def handle(self, *args, username, email, password_env, password_stdin, interactive, **options):
        if password_env or password_stdin:
            interactive = False
        if interactive:
            if not sys.stdin.isatty():
                raise CommandError(
                    "No terminal to prompt on: use --no-input with --username and --password-env or --password-stdin."
                )
            user = self._interactive(username=username, email=email)
        else:
            if not username:
                raise CommandError("--username is required with --no-input.")
            password = self._password_from_options(password_env=password_env, password_stdin=password_stdin)
            user = self._create(username=username, email=email, password=password)
        self.stdout.write(self.style.SUCCESS(f"System admin {user.username!r} created."))

    def _password_from_options(self, *, password_env: str | None, password_stdin: bool) -> str:
        if password_env:
            password = os.environ.get(password_env, "")
            if not password:
                raise CommandError(f"The environment variable {password_env} is not set or empty.")
            return password
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("No password on standard input.")
            return password
        raise CommandError("Give the password with --password-env VAR or --password-stdin (never on the command line).")

    def _check_email(self, email: str) -> None:
        if email:
            try:
                validate_email(email)
            except ValidationError as error:
                raise CommandError(f"{email!r} is not an email address.") from error

    def _create(self, *, username: str, email: str, password: str) -> User:
        self._check_email(email)
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        try:
            return user_create(username=username, password=password, role=Role.SYSTEM_ADMIN, email=email)
        except ValidationError as error:
            raise CommandError(f"Not created: {_messages(error)}") from error
        except IntegrityError as error:  # created by someone else in the meantime
            raise CommandError(f"A user named {username!r} already exists.") from error

    def _interactive(self, *, username: str | None, email: str) -> User:
        while not username:
            username = input("Username: ").strip()
            if username and User.objects.filter(username=username).exists():
                self.stderr.write(f"A user named {username!r} already exists.")
                username = None
        while not email:
            email = input("Email (optional): ").strip()
            if not email:
                break
            try:
                self._check_email(email)
            except CommandError as error:
                self.stderr.write(str(error))
                email = ""
        while True:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                self.stderr.write("The two passwords differ. Try again.")
                continue
            try:
                return self._create(username=username, email=email, password=password)
            except CommandError as error:
                if "already exists" in str(error):
                    raise
                self.stderr.write(str(error))
