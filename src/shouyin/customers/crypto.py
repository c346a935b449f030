"""Encryption of personal fields (AES-GCM) and keyed blind indexes (HMAC-SHA256).

Personal fields are stored as `key id + nonce + ciphertext`, so keys can be rotated: new
values use the active key, old ones stay readable until `shouyin keys rotate` re-encrypts them.
Lookups never touch plaintext: an exact value is found through its HMAC under a separate
index key. The field name is bound in as associated data, so a ciphertext copied into another
column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
INDEX_BYTES = 16


class KeyRingError(Exception):
    """The key ring is missing or unreadable."""


@dataclass(frozen=True)
class KeyRing:
    active: str
    keys: dict[str, bytes]
    index_key: bytes
    retired: tuple[str, ...] = field(default=())

    def to_json(self) -> str:
        return json.dumps(
            {
                "active": self.active,
                "keys": {kid: _b64(key) for kid, key in self.keys.items()},
                "index_key": _b64(self.index_key),
                "retired": list(self.retired),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        data = json.loads(text)
        return cls(
            active=data["active"],
            keys={kid: _unb64(key) for kid, key in data["keys"].items()},
            index_key=_unb64(data["index_key"]),
            retired=tuple(data.get("retired", ())),
        )

    @classmethod
    def generate(cls) -> KeyRing:
        kid = _new_kid()
        return cls(
            active=kid, keys={kid: AESGCM.generate_key(256)}, index_key=secrets.token_bytes(32)
        )

    def rotated(self) -> KeyRing:
        kid = _new_kid()
        return KeyRing(
            active=kid,
            keys={**self.keys, kid: AESGCM.generate_key(256)},
            index_key=self.index_key,
            retired=(*self.retired, self.active),
        )


def _new_kid() -> str:
    return secrets.token_hex(4)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


def load_or_create(path: Path) -> KeyRing:
    """The key file, made on first use with owner-only permissions."""
    if path.exists():
        try:
            return KeyRing.from_json(path.read_text())
        except (ValueError, KeyError) as exc:
            raise KeyRingError(f"The key file {path} is unreadable: {exc}") from exc
    ring = KeyRing.generate()
    try:
        _create_exclusive(path, ring)
    except FileExistsError:  # another process made it first: use theirs
        return KeyRing.from_json(path.read_text())
    return ring


def _create_exclusive(path: Path, ring: KeyRing) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(ring.to_json())


def save(path: Path, ring: KeyRing) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.unlink(missing_ok=True)  # a leftover could carry looser permissions
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(ring.to_json())
    os.replace(temp, path)


class FieldCipher:
    def __init__(self, ring: KeyRing, *, reload: Callable[[], KeyRing] | None = None) -> None:
        self.ring = ring
        self._aead = {kid: AESGCM(key) for kid, key in ring.keys.items()}
        # Called when a value names a key this process does not know: a rotation in another
        # process has added it to the key file.
        self._reload = reload

    def encrypt(self, field_name: str, plaintext: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead[self.ring.active].encrypt(
            nonce, plaintext.encode(), field_name.encode()
        )
        return f"{self.ring.active}.{_b64(nonce + sealed)}"

    def decrypt(self, field_name: str, token: str) -> str:
        kid, _, body = token.partition(".")
        raw = _unb64(body)
        aead = self._aead.get(kid)
        if aead is None and self._reload is not None:
            fresh = self._reload()
            self._aead = {k: AESGCM(key) for k, key in fresh.keys.items()}
            aead = self._aead.get(kid)
        if aead is None:
            raise KeyRingError(f"No key {kid} in the key ring: was the key file replaced?")
        return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], field_name.encode()).decode()

    def key_id(self, token: str) -> str:
        return token.partition(".")[0]

    def index(self, kind: str, value: str) -> str:
        """Equal values give equal indexes; without the key nothing can be learned or guessed."""
        digest = hmac.new(self.ring.index_key, f"{kind}:{value}".encode(), hashlib.sha256)
        return digest.hexdigest()[: INDEX_BYTES * 2]
