import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


def tell_alike_names_apart(apps, schema_editor):
    """Queues of one company that share a name (any case) keep it on the first; the others get their number added,
    e.g. "Sales (7001)", so the constraint can be added and nothing is lost."""
    Queue = apps.get_model("calls", "Queue")
    seen: set[tuple[int, str]] = set()
    for queue in Queue.objects.order_by("company_id", "pk"):
        key = (queue.company_id, queue.name.lower())
        if key in seen:
            queue.name = f"{queue.name} ({queue.number})"[:100]
            queue.save(update_fields=["name"])
        seen.add((queue.company_id, queue.name.lower()))


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0004_fewer_indexes_to_write"),
        ("companies", "0002_company_field_checks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(tell_alike_names_apart, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="queue",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"), models.F("company"), name="queue_name_once_per_company"
            ),
        ),
    ]
