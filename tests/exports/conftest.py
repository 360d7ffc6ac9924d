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


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The export tests create several users each; hashing is not what they test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
