"""Development keys, generated once into an ignored file so a newcomer's data stays readable across restarts."""

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def _new_secret(name: str) -> str:
    if name == "ENCRYPTION_KEY":
        return Fernet.generate_key().decode()
    return secrets.token_urlsafe(50)


def load_or_create_dev_secrets(path: Path, names: tuple[str, ...]) -> dict[str, str]:
    """Read NAME=value lines from `path`, adding a fresh value for any name that is missing."""
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip() in names:
                values[name.strip()] = value.strip()
    missing = [name for name in names if not values.get(name)]
    if missing:
        values.update({name: _new_secret(name) for name in missing})
        # Readable by the owner only from the first byte, and replaced whole so a reader never sees half a file.
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write("".join(f"{name}={values[name]}\n" for name in names))
        os.replace(partial, path)
    return values
