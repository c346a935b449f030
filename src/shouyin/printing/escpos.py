"""PURE ESC/POS building blocks for Chinese thermal printers: every slip is made of these.

python-escpos builds the command bytes (its ``Dummy`` printer only collects them), but its
automatic text encoding picks single-byte code pages for strings without ideographs and never
sends ``FS &`` (Chinese mode) -- see TOOLCHAIN.md. So all text goes out as GB18030 bytes after
``FS &``: for every character of GBK (all of everyday Chinese, ``￥``, full-width punctuation)
those are the two GBK bytes Chinese printers have always read; only characters beyond GBK
become GB18030's four-byte sequences, which a GB18030 printer prints and an old GBK one shows
as two odd glyphs instead of failing the whole receipt.
"""

from __future__ import annotations

import unicodedata
from typing import Any

ENCODING = "gb18030"
PAPER_COLUMNS: dict[int, int] = {58: 32, 80: 48}
PAPER_DOTS: dict[int, int] = {58: 384, 80: 576}

_FS_CHINESE_MODE = b"\x1c\x26"  # FS &
_GS = b"\x1d"
# ESC p m t1 t2: pulse drawer pin 2 (m=0) for t1*2 ms, then wait t2*2 ms: 100 ms is what
# common drawers need, and the pause keeps a second pulse from merging with the first.
DRAWER_PULSE = b"\x1bp\x00\x32\x32"


def paper_width(paper_mm: int) -> int:
    """Printer columns of the standard font on this paper."""
    if paper_mm not in PAPER_COLUMNS:
        raise ValueError(f"paper must be 58 or 80 mm, got {paper_mm}")
    return PAPER_COLUMNS[paper_mm]


def clean(text: str) -> str:
    """Control characters would shift columns, and on a printer they are commands."""
    return "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)


def new_slip() -> Any:
    """A python-escpos Dummy printer, reset and switched to Chinese mode."""
    # Imported here: importing escpos creates a temp folder and configures logging.
    from escpos.printer import Dummy

    printer = Dummy()
    printer.hw("INIT")
    printer._raw(_FS_CHINESE_MODE)
    return printer


def write(printer: Any, rows: list[str]) -> None:
    """Rows of text; callers have cleaned them and fitted them to the paper."""
    printer._raw(("\n".join(rows) + "\n").encode(ENCODING, errors="replace"))


def big_centred(printer: Any, rows: list[str]) -> None:
    """Bold double-size rows, centred by the printer (a title, the shop's name, 重印)."""
    printer.set(align="center", bold=True, custom_size=True, width=2, height=2)
    write(printer, [row.strip() for row in rows])
    printer.set(align="left", bold=False, custom_size=True, width=1, height=1)


def tall(printer: Any, rows: list[str]) -> None:
    """Bold double-height rows: the key figure (total, balance) stands out, columns intact."""
    printer.set(bold=True, custom_size=True, width=1, height=2)
    write(printer, rows)
    printer.set(bold=False, custom_size=True, width=1, height=1)


def barcode(printer: Any, number: str) -> None:
    """CODE128 of ``number`` with the printer's own command (GS k, function B).

    "{B" selects code set B; a literal "{" is written "{{". A number the printer cannot
    encode is left to the text rather than failing the whole slip.
    """
    payload = b"{B" + number.replace("{", "{{").encode("ascii", errors="replace")
    printable = number.isascii() and number.isprintable()
    if not number or not printable or len(payload) > 255:
        return
    printer.set(align="center")
    printer._raw(_GS + b"h" + bytes([80]))  # height in dots
    printer._raw(_GS + b"w" + bytes([2]))  # module width
    printer._raw(_GS + b"H" + bytes([2]))  # human-readable text below
    printer._raw(_GS + b"k" + bytes([73, len(payload)]) + payload)
    printer._raw(b"\n")
    printer.set(align="left")


def qr(printer: Any, text: str, paper_mm: int) -> None:
    """A QR code with the printer's own command: sharp at any size, and a few bytes only."""
    printer.set(align="center")
    printer.qr(text, native=True, size=6 if paper_mm == 80 else 4)
    printer.set(align="left")


def finish(printer: Any) -> bytes:
    """Feed the slip past the cutter and cut; the bytes to send."""
    printer.cut()
    output: bytes = printer.output
    return output


def drawer_pulse() -> bytes:
    """The bytes that open a cash drawer plugged into the printer."""
    return DRAWER_PULSE
