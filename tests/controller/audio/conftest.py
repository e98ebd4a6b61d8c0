"""Audio fixtures: the engines the shared suite runs against, and a media store in a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.audio import EspeakEngine, MediaStore
from tests.controller.audio.samples import ENGINE_CASES, EngineCase


@pytest.fixture(params=sorted(ENGINE_CASES))
def engine_case(request: pytest.FixtureRequest) -> EngineCase:
    return ENGINE_CASES[request.param]


@pytest.fixture(scope="session")
def espeak() -> EspeakEngine:
    return EspeakEngine()


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")
