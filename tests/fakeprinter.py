"""A fake network receipt printer: a TCP server on 127.0.0.1 that keeps every byte it gets.

Each connection is one print job (a receipt, a drawer pulse, a report). ``jobs(n)`` waits
until n jobs have arrived in full (the sender closed its side), so a test never sleeps.
``stall()`` makes the printer stop answering: it keeps its port but takes no connection,
like a printer that hangs, so the sender's timeout is what ends the attempt.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

# How long a test may wait for a job that should already have arrived: a safety net that
# turns a bug into a failure instead of a hung test run; a passing test never waits for it.
_NET = 30.0


class FakePrinter:
    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self._server.getsockname()[:2]
        # One slot per connection in the order they were accepted, filled when it closes.
        self._slots: list[bytes | None] = []
        self._changed = threading.Condition()
        self._stalled: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed: stall() or stop()
            with self._changed:
                self._slots.append(None)
                slot = len(self._slots) - 1
            threading.Thread(target=self._read, args=(conn, slot), daemon=True).start()

    def _read(self, conn: socket.socket, slot: int) -> None:
        chunks: list[bytes] = []
        with conn:
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        with self._changed:
            self._slots[slot] = b"".join(chunks)
            self._changed.notify_all()

    @property
    def _received(self) -> list[bytes]:
        """The jobs that arrived in full, in the order their connections were made."""
        done = []
        for job in self._slots:
            if job is None:
                break
            done.append(job)
        return done

    def jobs(self, count: int) -> list[bytes]:
        """The first ``count`` jobs, once they have all arrived."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self._received) >= count, _NET)
            assert arrived, f"the printer got {len(self._received)} jobs, expected {count}"
            return list(self._received[:count])

    @property
    def received(self) -> list[bytes]:
        with self._changed:
            return list(self._received)

    def stall(self) -> None:
        """Stop answering: the port stays bound with a full, never-accepted queue, so a new
        connection's handshake gets no reply (as with a hung printer) until it times out."""
        self._close_server()
        self._thread.join()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind((self.host, self.port))
        self._server.listen(0)
        # With a backlog of 0, Linux queues one connection; a second one fills the queue.
        for _ in range(2):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            filler.connect_ex((self.host, self.port))
            self._stalled.append(filler)

    def _close_server(self) -> None:
        # shutdown wakes the thread blocked in accept(); close alone would not on Linux.
        with contextlib.suppress(OSError):  # some systems refuse it; close still works
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()

    def stop(self) -> None:
        self._close_server()
        for filler in self._stalled:
            filler.close()


@pytest.fixture(name="fake_printer")
def fake_printer_fixture() -> Iterator[FakePrinter]:
    """Import ``fake_printer_fixture`` into a test module to use ``fake_printer``."""
    printer = FakePrinter()
    yield printer
    printer.stop()
