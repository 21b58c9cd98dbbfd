"""Usernames differing only in capitals ("Kim" and "kim") are refused by User.clean; this index holds it when two
requests race. An expression index, which both PostgreSQL and SQLite take."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_verbose_names_for_the_audit_logs")]

    operations = [
        migrations.RunSQL(
            "CREATE UNIQUE INDEX accounts_user_username_lower_uniq ON accounts_user (lower(username))",
            reverse_sql="DROP INDEX accounts_user_username_lower_uniq",
        )
    ]
