from __future__ import annotations

import pytest

from tests.exports.helpers import build_world


@pytest.fixture
def world(project):
    return build_world(project)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
