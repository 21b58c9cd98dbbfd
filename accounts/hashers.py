"""Argon2id with a pepper: the password is HMAC'd with PASSWORD_PEPPER before hashing.

A stolen database alone is then not enough to test guesses offline; the pepper lives only in the environment.
"""

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


def _peppered(password: str) -> str:
    return hmac.new(settings.PASSWORD_PEPPER.encode(), password.encode(), hashlib.sha256).hexdigest()


class PepperedArgon2PasswordHasher(Argon2PasswordHasher):
    """Stored as `argon2_peppered$argon2id$v=19$m=…`; Django's Argon2 parameters otherwise."""

    algorithm = "argon2_peppered"

    @property
    def memory_cost(self):
        # Tunable because every hash costs this much memory; tests lower it, production keeps Django's 100 MiB.
        return getattr(settings, "ARGON2_MEMORY_KIB", 102400)

    def encode(self, password, salt):
        return super().encode(_peppered(password), salt)

    def verify(self, password, encoded):
        return super().verify(_peppered(password), encoded)
