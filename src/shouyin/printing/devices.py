"""Where the bytes go: a network printer (raw TCP, port 9100), a USB printer, or a file.

Slips are rendered in memory first (python-escpos ``Dummy``) and sent here in one piece, so
what a test's fake printer receives is exactly what a real one would. Any failure to deliver
becomes one error, ``printer.unreachable``: the caller decides what it means (a sale stands).
"""

from __future__ import annotations

import os
import re
import socket
import stat
from pathlib import PurePosixPath

from shouyin.errors import DomainError, ValidationFailed

KINDS = ("network", "usb", "file")
DEFAULT_PORT = 9100
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,188}[A-Za-z0-9])?", re.ASCII)
_HEX_ID = re.compile(r"(?:0[xX])?([0-9A-Fa-f]{1,4})", re.ASCII)
# Where no printer lives and a stray write could harm the system.
# The device files printers appear as: USB and parallel printers, USB and serial ports.
_PRINTER_DEVICE = re.compile(r"/dev/(?:usb/lp|lp|ttyUSB|ttyACM|ttyS|rfcomm)[0-9]{1,3}|/dev/null")
_SYSTEM_FOLDERS = frozenset({"etc", "proc", "sys", "boot", "usr", "bin", "sbin", "root", "var"})


class PrinterUnreachable(DomainError):
    status = 503
    code = "printer.unreachable"


def _bad_address(kind: str) -> ValidationFailed:
    messages = {
        "network": "A network printer's address is host or host:port, e.g. 192.168.1.50:9100.",
        "usb": "A USB printer's address is vendor:product in hex, e.g. 04b8:0202.",
        "file": (
            "A file printer is a printer device such as /dev/usb/lp0, or a file outside "
            "the system folders."
        ),
    }
    return ValidationFailed(messages[kind], code="printer.address_invalid")


def parse_network(address: str) -> tuple[str, int]:
    """``host`` or ``host:port`` -> (host, port); the port is 9100 when left out."""
    host, sep, port_text = address.strip().partition(":")
    if not _HOST.fullmatch(host):
        raise _bad_address("network")
    if not sep:
        return host, DEFAULT_PORT
    if not (port_text.isascii() and port_text.isdigit() and 1 <= int(port_text) <= 65535):
        raise _bad_address("network")
    return host, int(port_text)


def parse_usb(address: str) -> tuple[int, int]:
    """``vendor:product`` in hex (``04b8:0202`` or ``0x04b8:0x0202``) -> two ids."""
    vendor, sep, product = address.strip().partition(":")
    found = [_HEX_ID.fullmatch(part) for part in (vendor, product)]
    if not sep or found[0] is None or found[1] is None:
        raise _bad_address("usb")
    return int(found[0].group(1), 16), int(found[1].group(1), 16)


def parse_file(address: str) -> str:
    """An absolute path with no ``..``: a device such as /dev/usb/lp0, or a plain file."""
    path = PurePosixPath(address.strip())
    if not path.is_absolute() or ".." in path.parts or "\x00" in address or len(path.parts) < 2:
        raise _bad_address("file")
    if path.parts[1] in _SYSTEM_FOLDERS or path.parts[1].startswith("lib"):
        raise _bad_address("file")
    if path.parts[1] == "dev" and not _PRINTER_DEVICE.fullmatch(str(path)):
        raise _bad_address("file")  # /dev/sda or /dev/mem would be a disaster, not a slip
    return str(path)


def check_address(kind: str, address: str) -> str:
    """The address in its normal form, or a 422 saying what one looks like."""
    if kind == "network":
        host, port = parse_network(address)
        return f"{host}:{port}"
    if kind == "usb":
        vendor, product = parse_usb(address)
        return f"{vendor:04x}:{product:04x}"
    if kind == "file":
        return parse_file(address)
    raise ValidationFailed("Choose network, USB or file.", code="printer.kind_invalid")


def send(kind: str, address: str, data: bytes, *, timeout: float) -> None:
    """Deliver the bytes, or raise PrinterUnreachable saying which printer did not answer."""
    try:
        if kind == "network":
            _send_network(address, data, timeout)
        elif kind == "usb":
            _send_usb(address, data, timeout)
        else:
            _send_file(address, data)
    except (OSError, RuntimeError, ValueError) as exc:
        raise PrinterUnreachable(
            "The printer at {address} did not answer. Check that it is on, connected and has paper.",
            details={"address": address, "reason": str(exc) or type(exc).__name__},
        ) from exc
    except Exception as exc:  # python-escpos USB errors have no common base
        raise PrinterUnreachable(
            "The printer at {address} did not answer. Check that it is on, connected and has paper.",
            details={"address": address, "reason": type(exc).__name__},
        ) from exc


def _send_network(address: str, data: bytes, timeout: float) -> None:
    host, port = parse_network(address)
    # The timeout covers connecting and every send: a printer that accepts the connection
    # but never reads (paper out, buffer full) fails the same way as one that is off.
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)


def _send_usb(address: str, data: bytes, timeout: float) -> None:
    vendor, product = parse_usb(address)
    # Imported here: importing escpos creates a temp folder; USB needs pyusb and libusb.
    from escpos.printer import Usb

    if not Usb.is_usable():
        raise RuntimeError("USB printing needs the pyusb package and libusb")
    printer = Usb(vendor, product, timeout=int(timeout * 1000))
    printer.open()
    try:
        printer._raw(data)
    finally:
        printer.close()


def _send_file(address: str, data: bytes) -> None:
    # Append, and never create: a device takes the bytes as they come, a plain file made
    # for the purpose collects every slip, and a typo cannot litter the server with files.
    path = parse_file(address)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "ab") as device:
        mode = os.fstat(fd).st_mode
        # A printer device, or a plain file or pipe elsewhere; never a disk or a folder.
        wanted = stat.S_ISCHR(mode) if path.startswith("/dev/") else stat.S_ISREG(mode)
        if not (wanted or stat.S_ISFIFO(mode)):
            raise ValueError("not a printer device or a plain file")
        device.write(data)
