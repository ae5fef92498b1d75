"""Fixtures for the live tests: a Site whose processes are always killed afterwards."""

from __future__ import annotations

import pytest

from .support import Site


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/live/" in str(item.fspath):
            item.add_marker(pytest.mark.live)


@pytest.fixture
def site_factory(tmp_path):
    sites: list[Site] = []

    def make(name: str = "site", **kwargs) -> Site:
        folder = tmp_path / name
        folder.mkdir()
        site = Site(folder, **kwargs)
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.cleanup()
