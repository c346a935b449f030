"""Reading ESC/POS bytes back in tests: commands and GB18030 text, so receipts are checked by
decoding what the printer would get."""

from __future__ import annotations

from dataclasses import dataclass

ESC, GS, FS = 0x1B, 0x1D, 0x1C
_FIXED = {
    (ESC, ord("@")): 0,
    (ESC, ord("a")): 1,
    (ESC, ord("E")): 1,
    (ESC, ord("!")): 1,
    (ESC, ord("d")): 1,
    (ESC, ord("p")): 3,
    (FS, ord("&")): 0,
    (GS, ord("!")): 1,
    (GS, ord("h")): 1,
    (GS, ord("w")): 1,
    (GS, ord("H")): 1,
    (GS, ord("V")): 1,
}


@dataclass(frozen=True)
class Command:
    prefix: bytes  # e.g. b"\x1dk"
    args: bytes
    text_before: int  # how many text bytes were printed before this command


def parse(data: bytes) -> tuple[list[Command], str]:
    """Split ESC/POS output into commands and GB18030 text; unknown commands fail the test."""
    commands: list[Command] = []
    text = bytearray()
    i = 0
    while i < len(data):
        if data[i] not in (ESC, GS, FS):
            text.append(data[i])
            i += 1
            continue
        key = (data[i], data[i + 1])
        start = i + 2
        if key in _FIXED:
            end = start + _FIXED[key]
        elif key == (GS, ord("k")):  # function B: m, n, then n data bytes
            assert data[start] >= 65, "only barcode function B is expected"
            end = start + 2 + data[start + 1]
        elif key == (GS, ord("(")):  # GS ( k pL pH data
            end = start + 3 + data[start + 1] + 256 * data[start + 2]
        else:
            raise AssertionError(f"unexpected command {data[i : i + 2]!r} at {i}")
        commands.append(Command(data[i:start], data[start:end], len(text)))
        i = end
    return commands, text.decode("gb18030")


def find(commands: list[Command], prefix: bytes) -> list[Command]:
    return [command for command in commands if command.prefix == prefix]
