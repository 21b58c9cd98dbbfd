"""manage.py rotate_encryption_key: re-encrypt every encrypted field of every model under the newest key.

Rotation: put a new key in front of ENCRYPTION_KEY (keeping the old ones after it), run this command, then drop the
old keys. Rows are read and rewritten as raw ciphertext in batches, each batch in one transaction with its rows
locked, so a concurrent save is never overwritten and a failure leaves no batch half-written. Values already under
the newest key are left alone, so running it again is harmless. Blind indexes do not depend on the encryption key.
"""

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, router, transaction

from pbx.encryption import DecryptionError, encrypt, encrypted_fields, is_under_newest_key, reencrypt


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field of every model under the newest key in ENCRYPTION_KEY."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            encrypt("")  # an empty or malformed ENCRYPTION_KEY is said in one line, before any row is read
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        total = 0
        for model in apps.get_models():
            fields = encrypted_fields(model)
            if not fields or model._meta.proxy or not model._meta.managed:
                continue
            rewritten, current = self._rotate_model(model, fields, batch_size)
            total += rewritten
            self.stdout.write(
                f"{model._meta.label}: {rewritten} value(s) re-encrypted, {current} already under the newest key "
                f"({', '.join(field.name for field in fields)})"
            )
        self.stdout.write(self.style.SUCCESS(f"Done: {total} value(s) re-encrypted under the newest key."))

    def _rotate_model(self, model, fields, batch_size: int) -> tuple[int, int]:
        connection = connections[router.db_for_write(model)]
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        pk_column = quote(model._meta.pk.column)
        columns = [quote(field.column) for field in fields]
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        select = f"SELECT {pk_column}, {', '.join(columns)} FROM {table} {{where}} ORDER BY {pk_column} LIMIT %s{lock}"
        update = f"UPDATE {table} SET {', '.join(f'{column} = %s' for column in columns)} WHERE {pk_column} = %s"
        rewritten = current = 0
        last_pk = None
        while True:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                if last_pk is None:
                    cursor.execute(select.format(where=""), [batch_size])
                else:
                    cursor.execute(select.format(where=f"WHERE {pk_column} > %s"), [last_pk, batch_size])
                rows = cursor.fetchall()
                if not rows:
                    return rewritten, current
                changes = []
                for pk, *tokens in rows:
                    new_tokens, changed = [], False
                    for field, token in zip(fields, tokens, strict=True):
                        if not token or is_under_newest_key(token):
                            current += bool(token)
                            new_tokens.append(token)
                            continue
                        try:
                            new_tokens.append(reencrypt(token, where=f"{model._meta.label}.{field.name} (pk={pk})"))
                        except DecryptionError as error:
                            raise CommandError(
                                f"{error} Nothing of this batch was written; earlier batches are already under the "
                                "newest key. Add the missing old key after the new one in ENCRYPTION_KEY and run "
                                "the command again."
                            ) from error
                        rewritten += 1
                        changed = True
                    if changed:
                        changes.append([*new_tokens, pk])
                if changes:
                    cursor.executemany(update, changes)
                last_pk = rows[-1][0]
