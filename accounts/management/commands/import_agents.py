"""Create a company's agents from a CSV file: all rows or none, every bad row named with its line number."""

import csv
import os
import sys
from pathlib import Path
from typing import TextIO

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.agent_import import ImportRefused, agents_import, decode, parse
from companies.management.company_argument import company_argument


class Command(BaseCommand):
    help = (
        "Import agents from a CSV file with the columns username,name,extension,role[,email,phone]. Every row is "
        "checked first; a file with any bad row creates nobody. Passwords are generated and shown once (or written "
        "to --passwords-out)."
    )

    def add_arguments(self, parser):
        parser.add_argument("csv_file", type=Path, help="the CSV file, or - to read it from standard input")
        parser.add_argument(
            "--company",
            required=True,
            help="the company's id or exact name (a number is read as an id first; give the id when two companies "
            "share a name)",
        )
        parser.add_argument("--encoding", default="utf-8-sig", help="the file's encoding (cp949 for Korean Excel)")
        parser.add_argument("--passwords-out", type=Path, help="write username,extension,password here (mode 600)")
        parser.add_argument("--dry-run", action="store_true", help="check the file, create nobody")

    def handle(self, *args, **options):
        company = company_argument(options["company"])
        out_path = options["passwords_out"]
        if out_path and out_path.exists():
            raise _passwords_file_exists(out_path)
        try:
            raw = sys.stdin.buffer.read() if str(options["csv_file"]) == "-" else options["csv_file"].read_bytes()
        except OSError as error:
            message = _("Cannot read %(path)s: %(error)s.")
            raise CommandError(message % {"path": options["csv_file"], "error": error.strerror}) from None
        try:
            rows = parse(decode(raw, options["encoding"]), company=company)
        except ImportRefused as refused:
            heading = _("Nothing imported: %(count)d problem(s) in %(path)s:") % {
                "count": len(refused.problems),
                "path": options["csv_file"],
            }
            raise CommandError(heading + "\n  " + "\n  ".join(refused.messages())) from None
        if options["dry_run"]:
            message = _("%(count)d user(s) would be created; nothing changed.") % {"count": len(rows)}
            self.stdout.write(self.style.SUCCESS(message))
            return
        # The passwords file exists before anyone does: a path that cannot be written stops the import while there is
        # nothing to undo, instead of after the commit, when the passwords would be lost and a re-run refused.
        passwords_file = _passwords_file_create(out_path) if out_path else None
        try:
            created = agents_import(rows=rows, company=company)
        except BaseException:
            if passwords_file:
                passwords_file.close()
                out_path.unlink(missing_ok=True)
            raise
        message = _("Created %(count)d user(s) in %(company)s.") % {"count": len(created), "company": company.name}
        self.stdout.write(self.style.SUCCESS(message))
        if passwords_file:
            with passwords_file:
                writer = csv.writer(passwords_file)
                writer.writerow(["username", "extension", "password"])
                writer.writerows([agent.username, agent.extension, agent.password] for agent in created)
            self.stdout.write(
                _("Passwords written to %(path)s; hand them over and delete the file.") % {"path": out_path}
            )
        else:
            self.stdout.write(_("Passwords (shown only now):"))
            for agent in created:
                self.stdout.write(f"  {agent.username}\t{agent.extension or '-'}\t{agent.password}")
        self.stdout.write(_("Next: manage.py render_asterisk_config --reload, so their phones can register."))


def _passwords_file_create(path: Path) -> TextIO:
    """The passwords file, opened for writing: new (never over another file) and readable by its owner only before
    a single password is in it."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise _passwords_file_exists(path) from None
    except OSError as error:
        message = _("Cannot create %(path)s: %(error)s. Nobody was created.")
        raise CommandError(message % {"path": path, "error": error.strerror}) from None
    return os.fdopen(descriptor, "w", newline="", encoding="utf-8")


def _passwords_file_exists(path: Path) -> CommandError:
    return CommandError(_("%(path)s exists: passwords are never written over another file.") % {"path": path})
