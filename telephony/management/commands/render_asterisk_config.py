"""Write Asterisk's pjsip.conf, extensions.conf, ari.conf and http.conf from the database; check or reload them."""

import asyncio
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from pbx.encryption import DecryptionError
from telephony import asterisk_config
from telephony.ari import AriClient, AriConfig, AriError, AriUnreachable

# What each rendered file needs reloaded in a running Asterisk.
RELOADED_MODULES = ("res_pjsip.so", "pbx_config.so")


class Command(BaseCommand):
    help = (
        "Render Asterisk's configuration (every agent extension with its SIP secret, every queue number routed into "
        "the Stasis app) into --output. --check only says whether the files there are current; --reload asks the "
        "running Asterisk to reload PJSIP and the dialplan through ARI."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=None, help="directory for the files (ASTERISK_CONFIG_DIR)")
        parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file is stale")
        parser.add_argument("--reload", action="store_true", help="after writing, reload Asterisk through ARI")

    def handle(self, *args, output, check, reload, **options):
        directory = Path(output or settings.ASTERISK_CONFIG_DIR)
        if directory.exists() and not directory.is_dir():
            message = _("%(directory)s is a file: give --output (or ASTERISK_CONFIG_DIR) a directory.")
            raise CommandError(message % {"directory": directory})
        warnings: list[str] = []
        try:
            rendered = asterisk_config.render(warnings=warnings)
        except (asterisk_config.AsteriskConfigError, ImproperlyConfigured, DecryptionError) as error:
            # As rotate_encryption_key does: a malformed ENCRYPTION_KEY, or one that cannot open the stored SIP
            # secrets, is said in the one line pbx.encryption words it (with its remedy), not as a traceback.
            raise CommandError(str(error)) from error
        for warning in warnings:
            self.stderr.write(self.style.WARNING(_("warning: %(warning)s") % {"warning": warning}))

        if check:
            stale = _files_on_disk(asterisk_config.stale_files, rendered, directory)
            if stale:
                message = _("Stale in %(directory)s: %(files)s. Run `manage.py render_asterisk_config` to update.")
                raise CommandError(message % {"directory": directory, "files": ", ".join(stale)})
            self.stdout.write(
                _("Current: %(files)s in %(directory)s.") % {"files": ", ".join(rendered), "directory": directory}
            )
            return

        changed = _files_on_disk(asterisk_config.write, rendered, directory)
        if changed:
            message = _("Wrote %(files)s to %(directory)s.") % {"files": ", ".join(changed), "directory": directory}
            self.stdout.write(self.style.SUCCESS(message))
        else:
            self.stdout.write(
                _("Unchanged: %(files)s in %(directory)s.") % {"files": ", ".join(rendered), "directory": directory}
            )
        if reload:
            self._reload(changed)

    def _reload(self, changed: list[str]) -> None:
        config = AriConfig.from_settings()
        if not config.host or not config.password:
            raise CommandError(
                _(
                    "ARI is not configured (ARI_HOST, ARI_PASS): the files are written, reload Asterisk yourself: "
                    "asterisk -rx 'module reload res_pjsip.so' -rx 'dialplan reload'."
                )
            )
        try:
            asyncio.run(_reload_modules(config))
        except AriUnreachable as error:
            message = _(
                "Asterisk's ARI at %(address)s is not reachable (%(error)s); the files are written and take effect "
                "at Asterisk's next reload or start."
            )
            raise CommandError(message % {"address": f"{config.host}:{config.port}", "error": error}) from error
        except AriError as error:
            raise CommandError(_("Asterisk refused the reload: %(error)s") % {"error": error}) from error
        message = _("Asterisk reloaded %(modules)s.") % {"modules": ", ".join(RELOADED_MODULES)}
        self.stdout.write(self.style.SUCCESS(message))
        if {"ari.conf", "http.conf"} & set(changed):
            # Reloading ARI over ARI would cut the very connection that asks for it (and a new password locks it out).
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "ari.conf or http.conf changed: they take effect at Asterisk's restart "
                        "(or `asterisk -rx 'module reload res_ari.so'`, then restart the application)."
                    )
                )
            )


def _files_on_disk(
    action: Callable[[dict[str, str], Path], list[str]], rendered: dict[str, str], directory: Path
) -> list[str]:
    """`action` (stale_files or write) on `directory`; a refused permission or a path through a file is a clear
    error naming the path, not a traceback."""
    try:
        return action(rendered, directory)
    except OSError as error:
        message = _("Cannot read or write %(path)s: %(error)s.")
        path = error.filename or directory
        raise CommandError(message % {"path": path, "error": error.strerror or error}) from error


async def _reload_modules(config: AriConfig) -> None:
    client = AriClient(config)
    try:
        for module in RELOADED_MODULES:
            await client.request("PUT", f"/asterisk/modules/{module}")
    finally:
        await client.close()
