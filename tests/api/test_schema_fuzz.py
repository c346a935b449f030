"""schemathesis over the OpenAPI document: whatever a client sends, never a server error."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from shouyin.auth import service as auth_service
from shouyin.auth.schemas import TokenCreate
from shouyin.db import Database, make_engine
from shouyin.main import create_app
from shouyin.migrations import runner
from tests import factories
from tests.conftest import make_settings


def _app() -> tuple[Any, str]:
    folder = Path(tempfile.mkdtemp(prefix="shouyin-fuzz-"))
    url = f"sqlite:///{folder / 'fuzz.db'}"
    runner.upgrade(make_engine(url, count_statements=False))
    db = Database.from_url(url)
    with db.write() as session:
        store = factories.make_store(session)
        for _ in range(3):
            factories.make_product(session, stock={store.id: 10_000})
        admin = factories.make_user(session, role="hq_admin")
        _, token = auth_service.create_token(
            session, user_id=admin.id, data=TokenCreate(name="fuzz"), actor=None
        )
    return create_app(make_settings(url, folder), db), token


# More examples for a deeper run: SHOUYIN_FUZZ_EXAMPLES=300 pytest tests/api/test_schema_fuzz.py
EXAMPLES = int(os.environ.get("SHOUYIN_FUZZ_EXAMPLES", "25"))
APP, TOKEN = _app()
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_with_a_server_error(case: Any) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
