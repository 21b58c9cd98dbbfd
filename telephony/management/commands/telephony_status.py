"""Print every telephony node (application process): leader or standby, ARI connection, heartbeat age, counters."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from telephony.health import node_is_fresh
from telephony.models import TelephonyNode


class Command(BaseCommand):
    help = (
        "Show each application process's telephony task as it last reported: leader or standby, ARI connection, "
        "heartbeat age and counters. Exits 1 when no live leader is connected to Asterisk."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="one JSON document, for scripts")
        parser.add_argument("--all", action="store_true", help="include stopped processes")

    def handle(self, *args, **options):
        now = timezone.now()
        nodes = TelephonyNode.objects.order_by("-heartbeat_at")
        if not options["all"]:
            nodes = nodes.exclude(role=TelephonyNode.Role.STOPPED)
        rows = [
            {
                "name": node.name,
                "role": node.role,
                "ari_connection": node.connection,
                "heartbeat_age_seconds": round((now - node.heartbeat_at).total_seconds(), 1),
                "fresh": node_is_fresh(node, now),
                "started_at": node.started_at.isoformat(timespec="seconds"),
                "counters": node.counters or {},
            }
            for node in nodes
        ]
        healthy = any(
            row["role"] == TelephonyNode.Role.LEADER
            and row["fresh"]
            and row["ari_connection"] == TelephonyNode.Connection.CONNECTED
            for row in rows
        )
        if options["json"]:
            self.stdout.write(_dumps({"healthy": healthy, "nodes": rows}))
        else:
            self._print_table(rows)
        if not healthy:
            raise CommandError(_("No live telephony leader is connected to Asterisk."))

    def _print_table(self, rows):
        if not rows:
            self.stdout.write(_("No telephony node has reported (is any application process running?)."))
            return
        self.stdout.write(f"{'NODE':<40} {'ROLE':<8} {'ARI':<13} {'HEARTBEAT':>10}  COUNTERS")
        for row in rows:
            age = f"{row['heartbeat_age_seconds']:.1f}s" + ("" if row["fresh"] else " STALE")
            counters = " ".join(f"{key}={value}" for key, value in sorted(row["counters"].items())) or "-"
            line = f"{row['name']:<40} {row['role']:<8} {row['ari_connection']:<13} {age:>10}  {counters}"
            self.stdout.write(line if row["fresh"] else self.style.WARNING(line))


def _dumps(document) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2)
