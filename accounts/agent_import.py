"""Bulk agents from a CSV file: every row checked first, every problem reported with its line, nothing half-created.

Columns: username, name, extension, role, and optionally email and phone. Passwords never travel in the file: each
new user gets a generated one, shown once to the person who ran the import.
"""

from __future__ import annotations

import csv
import io
import secrets
import string
from dataclasses import dataclass

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from accounts.models import Role, User, extension_validator
from accounts.services import user_create
from companies.models import Company
from companies.numbering import extension_problems

REQUIRED_COLUMNS = ("username", "name", "extension", "role")
OPTIONAL_COLUMNS = ("email", "phone")
# What a person may write in the role column: the value, or its English or Korean label.
ROLE_WORDS = {
    "agent": Role.AGENT,
    "상담원": Role.AGENT,
    "manager": Role.MANAGER,
    "관리자": Role.MANAGER,
}
MAX_ROWS = 5000
# No look-alike characters (0/O, 1/l/I): the password is read off a screen and typed once.
_PASSWORD_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


class ImportRefused(Exception):
    """The file cannot be imported; `problems` says why, each with the line it is on (0: the file as a whole)."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = sorted(problems, key=lambda problem: problem[0])
        super().__init__("\n".join(self.messages()))

    def messages(self) -> list[str]:
        return [
            _("line %(line)d: %(problem)s") % {"line": line, "problem": text} if line else text
            for line, text in self.problems
        ]


@dataclass(frozen=True)
class AgentRow:
    line: int
    username: str
    name: str
    extension: str
    role: str
    email: str
    phone: str


@dataclass(frozen=True)
class CreatedAgent:
    username: str
    extension: str
    password: str


def generate_password() -> str:
    # 16 characters from 57: about 93 bits, and never all digits or a common word.
    while True:
        password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(16))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def decode(raw: bytes, encoding: str = "utf-8-sig") -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as error:
        message = _(
            "The file is not %(encoding)s (byte %(byte)d): save it as 'CSV UTF-8', "
            "or pass --encoding cp949 for a file saved by Korean Excel."
        )
        raise ImportRefused([(0, message % {"encoding": encoding, "byte": error.start})]) from None
    except LookupError:
        raise ImportRefused([(0, _("Unknown encoding %(encoding)r.") % {"encoding": encoding})]) from None


def parse(text: str, *, company: Company) -> list[AgentRow]:
    """Every row, checked against the file itself and the database; raises ImportRefused naming every problem."""
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[tuple[int, str]] = []
    try:
        header = next(reader)
    except StopIteration:
        empty = _("The file is empty: the first line names the columns (username,name,extension,role).")
        raise ImportRefused([(0, empty)]) from None
    except csv.Error as error:
        raise ImportRefused([(1, _("not CSV (%(error)s).") % {"error": error})]) from None
    columns = [column.strip().lower() for column in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    unknown = [column for column in columns if column not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    duplicated = sorted({column for column in columns if columns.count(column) > 1})
    if missing or unknown or duplicated:
        if missing:
            problems.append((1, _("missing column(s) %(columns)s.") % {"columns": ", ".join(missing)}))
        if unknown:
            message = _("unknown column(s) %(columns)s (known: %(known)s; passwords are generated, never imported).")
            known = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
            problems.append((1, message % {"columns": ", ".join(unknown), "known": known}))
        if duplicated:
            problems.append((1, _("column(s) %(columns)s given twice.") % {"columns": ", ".join(duplicated)}))
        raise ImportRefused(problems)

    rows: list[AgentRow] = []
    line = reader.line_num + 1
    try:
        for values in reader:
            start, line = line, reader.line_num + 1  # a quoted field may span lines: report where the row starts
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(columns):
                message = _("%(fields)d fields, the header has %(columns)d.")
                problems.append((start, message % {"fields": len(values), "columns": len(columns)}))
                continue
            cells = {column: value.strip() for column, value in zip(columns, values, strict=True)}
            rows.append(_row(start, cells, problems))
            if len(rows) > MAX_ROWS:
                raise ImportRefused([(0, _("More than %(rows)d rows: split the file.") % {"rows": MAX_ROWS})])
    except csv.Error as error:
        problems.append((line, _("not CSV (%(error)s).") % {"error": error}))
    if not rows and not problems:
        problems.append((0, _("The file has a header but no agents.")))
    _check_against_each_other(rows, problems)
    _check_against_database(rows, company, problems)
    if problems:
        raise ImportRefused(problems)
    return rows


def _row(line: int, cells: dict[str, str], problems: list[tuple[int, str]]) -> AgentRow:
    def problem(message: str, **values) -> None:
        problems.append((line, message % values))

    for column in _columns_with_nul(cells):
        problem(_("%(column)s holds a NUL character (byte 0), which cannot be stored."), column=column)
    # Said once, above. The checks below and the database look-ups see the values without it: PostgreSQL refuses
    # a NUL even in a query, and a username would otherwise get a second, puzzling message.
    cells = {column: value.replace("\x00", "") for column, value in cells.items()}
    for column in REQUIRED_COLUMNS:
        if not cells.get(column) and not (column == "extension" and _role(cells.get("role", "")) == Role.MANAGER):
            problem(_("%(column)s is missing."), column=column)
    too_long = _columns_too_long(cells)
    for column, limit in too_long.items():
        problem(_("%(column)s is longer than %(limit)d characters."), column=column, limit=limit)
    username = cells.get("username", "")
    if username and "username" not in too_long:
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError:
            problem(
                _("username '%(username)s' may hold only letters, digits and @ . + - _ (150 max)."), username=username
            )
    extension = cells.get("extension", "")
    if extension and "extension" not in too_long:
        try:
            extension_validator(extension)
        except ValidationError:
            problem(_("extension '%(extension)s' is not 2 to 10 digits."), extension=extension)
    role_text = cells.get("role", "")
    role = _role(role_text)
    if role_text and role is None:
        problem(_("role '%(role)s' is unknown (use AGENT or MANAGER)."), role=role_text)
    email = cells.get("email", "")
    if email and "email" not in too_long:
        try:
            validate_email(email)
        except ValidationError:
            problem(_("email '%(email)s' is not an email address."), email=email)
    phone = cells.get("phone", "")
    if phone and (len(phone) > 40 or not all(c.isdigit() or c in "+-() " for c in phone)):
        problem(_("phone '%(phone)s' is not a phone number."), phone=phone)
    name = cells.get("name", "")
    return AgentRow(line, username, name, extension, role or "", email, phone)


# Column -> the User field that stores it. The limits come from the model, so a value the database would refuse
# (with a traceback naming no line) is refused here; validate_email alone allows 320 characters, the field 254.
_STORED_IN = {"username": "username", "name": "first_name", "extension": "extension", "email": "email"}


def _columns_with_nul(cells: dict[str, str]) -> list[str]:
    return [column for column, value in cells.items() if "\x00" in value]


def _columns_too_long(cells: dict[str, str]) -> dict[str, int]:
    """Column -> its field's max_length, for each value longer than that."""
    limits = {column: User._meta.get_field(field).max_length for column, field in _STORED_IN.items()}
    return {column: limit for column, limit in limits.items() if len(cells.get(column, "")) > limit}


def _role(text: str) -> str | None:
    text = text.strip()
    if text.upper() in (Role.AGENT, Role.MANAGER):
        return text.upper()
    return ROLE_WORDS.get(text.lower())


def _check_against_each_other(rows: list[AgentRow], problems: list[tuple[int, str]]) -> None:
    first_username: dict[str, int] = {}
    first_extension: dict[str, int] = {}
    for row in rows:
        key = row.username.lower()
        if key and key in first_username:
            message = _("username '%(username)s' repeats line %(first)d.")
            problems.append((row.line, message % {"username": row.username, "first": first_username[key]}))
        first_username.setdefault(key, row.line)
        if row.extension and row.extension in first_extension:
            message = _("extension %(extension)s repeats line %(first)d.")
            problems.append((row.line, message % {"extension": row.extension, "first": first_extension[row.extension]}))
        first_extension.setdefault(row.extension, row.line)


def _check_against_database(rows: list[AgentRow], company: Company, problems: list[tuple[int, str]]) -> None:
    # Case-insensitive: "Kim" and "kim" would be two accounts that people cannot tell apart.
    usernames = set(
        User.objects.annotate(lowered=Lower("username"))
        .filter(lowered__in=[row.username.lower() for row in rows])
        .values_list("lowered", flat=True)
    )
    extensions = set(User.objects.filter(extension__in=[r.extension for r in rows]).values_list("extension", flat=True))
    for row in rows:
        if row.username and row.username.lower() in usernames:
            problems.append((row.line, _("username '%(username)s' exists already.") % {"username": row.username}))
        if not row.extension:
            continue
        if row.extension in extensions:
            problems.append(
                (row.line, _("extension %(extension)s is already assigned.") % {"extension": row.extension})
            )
        for problem in extension_problems(row.extension, company=company):
            problems.append((row.line, _("extension %(extension)s: %(problem)s") % {"extension": row.extension,
                                                                                     "problem": problem}))  # fmt: skip


@transaction.atomic
def agents_import(*, rows: list[AgentRow], company: Company) -> list[CreatedAgent]:
    """Create every row's user, or none (one transaction); each with a fresh password and, with an extension,
    a SIP secret."""
    created = []
    for row in rows:
        password = generate_password()
        user_create(
            username=row.username,
            password=password,
            role=row.role,
            company=company,
            extension=row.extension or None,
            first_name=row.name,
            email=row.email,
            phone=row.phone,
        )
        created.append(CreatedAgent(row.username, row.extension, password))
    return created
