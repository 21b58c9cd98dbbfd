"""Bearer tokens handed out by the JSON API: the signed JWT carries a `jti`; this row says whether it still counts."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiTokenQuerySet(models.QuerySet):
    def live(self):
        """Tokens that still open the API: not revoked, not expired (the owner's is_active is checked beside this)."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())

    def of_user(self, user_id: int):
        return self.filter(user_id=user_id)


class ApiToken(models.Model):
    jti = models.CharField(_("token id"), max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self):
        return f"token {self.jti[:8]}… of {self.user_id}"
