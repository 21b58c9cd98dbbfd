"""Encryption at rest for sensitive fields (phone numbers, business numbers), used by every app.

Values are Fernet tokens under ENCRYPTION_KEY (a newest-first list, so keys can be rotated). An exact-match search
goes through a keyed blind index (HMAC-SHA256 under BLIND_INDEX_KEY) stored beside the ciphertext, so the database
never sees the plaintext and the index does not change when the encryption key rotates.
"""

import hashlib
import hmac
import re
from collections.abc import Callable
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.db.models.lookups import Exact
from django.db.models.signals import post_save


class DecryptionError(Exception):
    """A stored value cannot be decrypted with any configured key; never answered with empty data."""


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = settings.ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("ENCRYPTION_KEY is empty: sensitive fields cannot be read or written.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            "ENCRYPTION_KEY must be a comma-separated list of Fernet keys (32 url-safe base64-encoded bytes)."
        ) from error


def _forget_keys(*, setting: str, **kwargs) -> None:
    if setting in {"ENCRYPTION_KEYS", "BLIND_INDEX_KEY"}:
        _fernet.cache_clear()


setting_changed.connect(_forget_keys)


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str, *, where: str = "a value") -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise DecryptionError(
            f"Cannot decrypt {where}: it was encrypted with a key that is not in ENCRYPTION_KEY "
            "(add the old key after the new one, then run `manage.py rotate_encryption_key`)."
        ) from error


def reencrypt(token: str, *, where: str = "a value") -> str:
    """The same plaintext under the newest key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as error:
        raise DecryptionError(f"Cannot re-encrypt {where}: no key in ENCRYPTION_KEY opens it.") from error


def is_under_newest_key(token: str) -> bool:
    """Whether the newest key alone opens this token (rotation leaves such values alone)."""
    _fernet()  # the same clear error as everywhere else when ENCRYPTION_KEY is empty or malformed
    try:
        Fernet(settings.ENCRYPTION_KEYS[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def normalize_phone(value: str) -> str:
    """Digits only, with Korea's +82 written as the domestic 0, so '+82 10-1234-5678' == '010-1234-5678'."""
    value = value or ""
    digits = re.sub(r"\D", "", value)
    if value.strip().startswith("+82") or digits.startswith("0082"):
        national = digits.removeprefix("00").removeprefix("82")
        # '+82 (0)10-…' keeps its trunk 0 once, not twice.
        digits = national if national.startswith("0") else "0" + national
    return digits


def normalize_text(value: str) -> str:
    return (value or "").strip()


def blind_index(value: str, normalize: Callable[[str], str] = normalize_phone) -> str:
    """The keyed hash that an exact search compares against; '' for an empty value."""
    normalized = normalize(value or "")
    if not normalized:
        return ""
    return hmac.new(settings.BLIND_INDEX_KEY.encode(), normalized.encode(), hashlib.sha256).hexdigest()


class _EmptyOnlyExact(Exact):
    """`field=''` works (empty is stored as is); any other value would be encrypted afresh and never match."""

    def get_prep_lookup(self):
        if self.rhs not in ("", None) and not hasattr(self.rhs, "resolve_expression"):
            field = self.lhs.output_field
            raise FieldError(
                f"{field.model._meta.label}.{field.name} is encrypted: a lookup by value never matches. "
                "Search through its blind index (e.g. `.with_phone(number)`)."
            )
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """Stores a Fernet token; Python code only ever sees the plaintext ('' stays '' unencrypted).

    Only `isnull` and `exact` with '' are looked up: other lookups would compare against ciphertext and silently find
    nothing, so they raise FieldError instead.
    """

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value, where=f"{self.model._meta.label}.{self.name}")

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


class BlindIndexField(models.CharField):
    """The HMAC of another field's plaintext, refreshed on every save, for exact-match search."""

    def __init__(self, *args, source: str = "", normalize: str = "phone", **kwargs):
        self.source = source
        self.normalize = normalize
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["normalize"] = self.normalize
        if not self.db_index:  # False is Field's default, so Django leaves it out; here the default is True
            kwargs["db_index"] = False
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        normalizer = normalize_phone if self.normalize == "phone" else normalize_text
        value = blind_index(getattr(model_instance, self.source) or "", normalizer)
        setattr(model_instance, self.attname, value)
        return value

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        if not cls._meta.abstract:
            post_save.connect(self._refresh_after_partial_save, sender=cls)

    def _refresh_after_partial_save(self, sender, instance, update_fields=None, **kwargs):
        """`save(update_fields=[source])` skips this field's pre_save; without this the index would go stale."""
        if update_fields is None or self.source not in update_fields or self.attname in update_fields:
            return
        value = self.pre_save(instance, add=False)
        sender._base_manager.using(kwargs.get("using")).filter(pk=instance.pk).update(**{self.attname: value})


def encrypted_fields(model) -> list[EncryptedTextField]:
    return [field for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)]
