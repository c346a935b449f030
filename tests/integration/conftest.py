"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shouyin.config import get_settings
from tests.conftest import DatabaseMaker


@pytest.fixture
def configured_url(
    backend: str, db_maker: DatabaseMaker, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """SHOUYIN_DATABASE_URL as an operator would set it, for the bench commands."""
    url = db_maker.url(backend)
    monkeypatch.setenv("SHOUYIN_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
