"""The Korean catalog is complete: every string in the code and templates is translated, and the .mo matches the .po."""

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
IGNORED = shutil.ignore_patterns(".*", "__pycache__", "staticfiles", "node_modules", "*.sqlite3", "bench")
# The project's catalog and any app's own (an app with a locale/ directory keeps its strings there).
CATALOGS = sorted(
    path.relative_to(BASE_DIR)
    for path in BASE_DIR.glob("**/locale/ko/LC_MESSAGES/django.po")
    if not any(part.startswith(".") for part in path.relative_to(BASE_DIR).parts)
)

pytestmark = pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed")


def entries(po_text: str) -> list[dict]:
    """msgid, msgstr and flags of each live (not obsolete) entry; enough of the PO format for our own catalog."""
    found = []
    for block in po_text.split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        fields: dict[str, str] = {}
        key = None
        for line in lines:
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if "msgid" in fields and fields["msgid"]:
            fields["fuzzy"] = any(line.startswith("#,") and "fuzzy" in line for line in lines)
            found.append(fields)
    return found


@pytest.mark.parametrize("catalog", CATALOGS, ids=str)
def test_every_catalog_entry_is_translated_and_none_is_fuzzy(catalog):
    problems = [
        entry["msgid"]
        for entry in entries((BASE_DIR / catalog).read_text())
        if entry["fuzzy"] or not any(value for key, value in entry.items() if key.startswith("msgstr"))
    ]
    assert problems == []


def test_every_string_in_the_code_is_in_a_catalog(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(BASE_DIR, copy, ignore=IGNORED)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ko", "--no-location"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    missing = {}
    for catalog in copy.glob("**/locale/ko/LC_MESSAGES/django.po"):
        original = BASE_DIR / catalog.relative_to(copy)
        known = {(e.get("msgctxt"), e["msgid"]) for e in entries(original.read_text())} if original.exists() else set()
        new = {(e.get("msgctxt"), e["msgid"]) for e in entries(catalog.read_text())} - known
        if new:
            missing[str(catalog.relative_to(copy))] = sorted(new, key=str)
    assert missing == {}, "run `manage.py makemessages -l ko`, translate, and compile"


@pytest.mark.parametrize("catalog", CATALOGS, ids=str)
def test_the_compiled_catalog_matches_the_source(tmp_path, catalog):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(BASE_DIR / catalog)], check=True, timeout=60)
    with (BASE_DIR / catalog).with_suffix(".mo").open("rb") as committed, compiled.open("rb") as fresh:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(fresh)._catalog
