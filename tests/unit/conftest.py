"""Unit-test fixtures."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="module")
def _escpos_temp_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Importing escpos makes a temp folder: keep it inside pytest's own temp area."""
    folder = str(tmp_path_factory.mktemp("escpos"))
    patch = pytest.MonkeyPatch()
    patch.setenv("TMPDIR", folder)
    patch.setattr(tempfile, "tempdir", folder)
    yield
    patch.undo()
