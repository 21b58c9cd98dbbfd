from django.apps import AppConfig


class PbxConfig(AppConfig):
    """The project package is an app too, for project-wide commands (rotate_encryption_key)."""

    name = "pbx"
    verbose_name = "PBX"
