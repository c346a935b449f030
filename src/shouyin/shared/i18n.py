"""Translations. Message ids are English; zh_CN is the default language.

Catalogs are .po files read at start-up (no compile step): each area of the product keeps its
own file under locale/zh_CN/LC_MESSAGES/, and all of them are merged.
"""

from __future__ import annotations

import gettext as _gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"


@lru_cache(maxsize=4)
def translations(lang: str) -> _gettext.NullTranslations:
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    merged: _gettext.NullTranslations = _gettext.NullTranslations()
    for po_path in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        part = _gettext.GNUTranslations(buffer)
        if isinstance(merged, _gettext.GNUTranslations):
            merged._catalog.update(part._catalog)  # type: ignore[attr-defined]
        else:
            merged = part
    return merged


def normalise(lang: str | None) -> str:
    if not lang:
        return DEFAULT_LANGUAGE
    lang = lang.replace("-", "_")
    if lang in LANGUAGES:
        return lang
    return "en" if lang.lower().startswith("en") else DEFAULT_LANGUAGE


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    return translations(lang).ngettext(singular, plural, n)


def translate_error(lang: str, template: str, details: dict[str, Any]) -> str:
    text = gettext(lang, template)
    try:
        return text.format(**details) if details else text
    except (KeyError, IndexError, ValueError):
        return template.format(**details) if details else template
