"""Pinyin of product names, for search by pinyin or its initials ("nfsq" finds 农夫山泉).

Pure: no database. Tones are dropped and ü is written "v" (the way people type it).
Letters and digits in a name are kept, lower-cased, in both forms, so "可口可乐500ml" gives
("kekoukele500ml", "kkkl500ml"): a search for the brand's initials still hits by prefix.
"""

from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

# pypinyin hands runs of non-Chinese characters to the `errors` callback; this marker tells
# them apart from syllables afterwards.
_FOREIGN = "\x00"
_ALNUM = re.compile(r"[a-z0-9]+")
# Lengths of the Product.pinyin and Product.initials columns.
PINYIN_MAX = 400
INITIALS_MAX = 120


def _mark_foreign(chars: str) -> str:
    return _FOREIGN + chars


def pinyin_of(name: str) -> tuple[str, str]:
    """(full pinyin, initials), both lower-case ASCII letters and digits only."""
    # NFKC turns full-width letters and digits (ＡＢ１２) into ASCII ones.
    text = unicodedata.normalize("NFKC", name)
    full: list[str] = []
    initials: list[str] = []
    for item in lazy_pinyin(text, style=Style.NORMAL, errors=_mark_foreign):
        if item.startswith(_FOREIGN):
            kept = "".join(_ALNUM.findall(item[1:].lower()))
            full.append(kept)
            initials.append(kept)
            continue
        syllable = "".join(_ALNUM.findall(item.lower()))
        if syllable:
            full.append(syllable)
            initials.append(syllable[0])
    return "".join(full)[:PINYIN_MAX], "".join(initials)[:INITIALS_MAX]
