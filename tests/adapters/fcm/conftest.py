"""Fixtures: a fake FCM service and a firebase-admin app wired to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import firebase_admin  # type: ignore[import-untyped]
import pytest

from tests.adapters.fcm.fake_fcm import FakeFcm, fake_app


@pytest.fixture
def fake_fcm() -> FakeFcm:
    return FakeFcm()


@pytest.fixture
def app(fake_fcm: FakeFcm) -> Iterator[Any]:
    created = fake_app(fake_fcm)
    yield created
    firebase_admin.delete_app(created)
