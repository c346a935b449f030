"""Every message a user can see has a Chinese translation (zh_CN is the default language)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from shouyin.shared import i18n

SRC = Path(__file__).resolve().parents[2] / "src" / "shouyin"
ERROR_KEYWORDS = dict.fromkeys(("DomainError", "ValidationFailed", "NotFound", "Conflict", "Forbidden", "Unauthorized"))  # fmt: skip
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "tr": None, **ERROR_KEYWORDS}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def _msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _ctx in extract_from_dir(
        str(SRC),
        METHODS,
        keywords=KEYWORDS,
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        first = message[0] if isinstance(message, tuple) else message
        if first:
            found.setdefault(first, f"{filename}:{lineno}")
    return found


def test_every_message_has_a_chinese_translation() -> None:
    catalog = i18n.translations("zh_CN")
    missing = {
        msgid: where for msgid, where in _msgids().items() if catalog.gettext(msgid) == msgid
    }
    assert missing == {}


def test_labels_in_code_are_translated() -> None:
    from shouyin.sales.orders import METHOD_LABELS, STEP_LABELS

    catalog = i18n.translations("zh_CN")
    for label in [*STEP_LABELS.values(), *METHOD_LABELS.values()]:
        assert catalog.gettext(label) != label, label
