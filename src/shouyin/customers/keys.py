"""The process's member-data cipher, from settings or the key file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from shouyin.config import Settings
from shouyin.customers.crypto import FieldCipher, KeyRing, load_or_create


@lru_cache(maxsize=8)
def _cipher(inline: str | None, path: Path) -> FieldCipher:
    if inline:
        return FieldCipher(KeyRing.from_json(inline))
    return FieldCipher(load_or_create(path), reload=lambda: KeyRing.from_json(path.read_text()))


def cipher_for(settings: Settings) -> FieldCipher:
    return _cipher(settings.member_keys, settings.key_file().resolve())


def forget() -> None:
    """After a rotation the next call reads the new ring."""
    _cipher.cache_clear()
