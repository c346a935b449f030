"""Both import pages share one upload layout and post to their own route."""

from __future__ import annotations

from tests.conftest import AppHarness


def test_import_pages_post_to_their_own_route(harness: AppHarness) -> None:
    admin = harness.client(harness.user("hq_admin"))
    for path in ("/office/products/import", "/office/members/import"):
        page = admin.get(path).text
        assert f'action="{path}"' in page and f'hx-post="{path}"' in page, path
        assert "<progress" in page
    assert 'name="mapping"' in admin.get("/office/members/import").text
    assert 'name="mapping"' not in admin.get("/office/products/import").text
