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


@pytest.fixture
def default_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The settings of a shop that configured nothing: the bench then uses its own SQLite."""
    monkeypatch.delenv("SHOUYIN_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
