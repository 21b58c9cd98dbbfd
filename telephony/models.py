"""What each application process's telephony task is doing, so any process can answer the health check."""

from django.db import models
from django.utils import timezone


class TelephonyNode(models.Model):
    """One row per running process (host + pid); the leader holds the ARI app, the others wait as standbys."""

    class Role(models.TextChoices):
        LEADER = "LEADER", "leader"
        STANDBY = "STANDBY", "standby"
        STOPPED = "STOPPED", "stopped"

    class Connection(models.TextChoices):
        CONNECTED = "CONNECTED", "connected"
        CONNECTING = "CONNECTING", "connecting"
        DISCONNECTED = "DISCONNECTED", "disconnected"

    name = models.CharField(max_length=200, unique=True)  # "<hostname>:<pid>"
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STANDBY)
    connection = models.CharField(max_length=15, choices=Connection.choices, default=Connection.DISCONNECTED)
    ari_url = models.CharField(max_length=300, blank=True, default="")
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    # Counters since the process started: events handled, events skipped as malformed, events dropped at the bound.
    counters = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-heartbeat_at"]

    def __str__(self):
        return f"{self.name} {self.role} {self.connection}"
