"""Simplified Chinese is complete: every catalogue entry is translated and none is fuzzy."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = sorted(
    path for path in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po") if ".venv" not in path.parts
)
ENTRY = re.compile(
    r'^(?:msgctxt .*\n)?msgid (".*"\n(?:".*"\n)*)'  # the source text
    r'(?:msgid_plural .*\n(?:".*"\n)*)?'  # its plural, if any
    r'((?:msgstr(?:\[\d\])? ".*"\n(?:".*"\n)*)+)',  # one translation per plural form
    re.M,
)


def untranslated(text: str) -> list[str]:
    missing = []
    for match in ENTRY.finditer(text):
        msgid = "".join(re.findall(r'"(.*)"', match.group(1)))
        if not msgid:
            continue  # the header
        for block in re.split(r"(?=^msgstr)", match.group(2), flags=re.M):
            if block and not "".join(re.findall(r'"(.*)"', block)):
                missing.append(msgid)
    return missing


def test_every_app_ships_a_chinese_catalogue_and_its_compiled_form():
    owners = {path.relative_to(ROOT).parts[0] for path in CATALOGUES}
    assert owners == {
        "locale",
        "accounts",
        "finance_projects",
        "feedback",
        "complaints",
        "dashboard",
        "digests",
    }
    for path in CATALOGUES:
        assert path.with_suffix(".mo").exists(), path


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_string_is_translated_and_none_is_fuzzy(catalogue):
    text = catalogue.read_text(encoding="utf-8")

    assert untranslated(text) == []
    assert "#, fuzzy" not in text.split("\n\n", 1)[1]
