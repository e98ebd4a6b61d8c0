"""Piper: what can be checked without Piper. Real Piper synthesis is untested here (no program, no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controller.audio import EngineUnavailable, MediaStore, PiperEngine, Voice, render_text
from controller.errors import AudioError

SHORT = "Kính thưa bà con nhân dân trong xã."


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """A model file and its config where an administrator would put them. Not a working model: the
    tests below stop before Piper would load it."""
    path = tmp_path / "vi_VN-test-medium.onnx"
    path.write_bytes(b"\x08\x07")
    path.with_name(path.name + ".json").write_text(json.dumps({"audio": {"sample_rate": 22050}}))
    return path


def test_a_missing_model_is_unavailable_in_both_languages(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable) as info:
        PiperEngine().synthesize(SHORT, Voice("piper", str(tmp_path / "absent.onnx")))
    assert "Piper model not found" in str(info.value)
    assert "Không tìm thấy mô hình giọng đọc Piper" in info.value.message_vi


def test_a_relative_model_name_is_looked_up_in_the_model_directory(model: Path) -> None:
    engine = PiperEngine(model_dir=model.parent)
    assert engine.model_path(Voice("piper", model.name)) == model
    assert engine.sample_rate(model) == 22050


def test_a_model_without_its_config_is_unavailable(model: Path) -> None:
    model.with_name(model.name + ".json").unlink()
    with pytest.raises(EngineUnavailable) as info:
        PiperEngine(program="sh").synthesize(SHORT, Voice("piper", str(model)))
    assert "vi_VN-test-medium.onnx.json" in info.value.message_vi


def test_a_missing_piper_program_is_unavailable_in_both_languages(model: Path) -> None:
    with pytest.raises(EngineUnavailable) as info:
        PiperEngine(program="loa-no-such-piper").synthesize(SHORT, Voice("piper", str(model)))
    assert "not found on PATH" in str(info.value)
    assert "Chưa cài chương trình đọc Piper" in info.value.message_vi


def test_request_errors_are_refused_before_looking_for_piper() -> None:
    for text, voice, message in [
        (" ", Voice("piper", "x.onnx"), "Bản tin không có nội dung để đọc."),
        (SHORT, Voice("piper", "x.onnx", rate_wpm=500), "Tốc độ đọc 500 không hợp lệ"),
        (SHORT, Voice("espeak-ng", "vi"), "Giọng đọc không thuộc bộ đọc piper."),
    ]:
        with pytest.raises(AudioError) as info:
            PiperEngine().synthesize(text, voice)
        assert not isinstance(info.value, EngineUnavailable)
        assert message in info.value.message_vi


def test_without_piper_the_render_falls_back_to_espeak_and_records_why(model: Path, store: MediaStore) -> None:
    voice = Voice("piper", str(model), rate_wpm=140)
    rendered = render_text(SHORT, voice, store)  # the registry's PiperEngine: `piper` is not installed here
    assert (rendered.engine, rendered.voice) == ("espeak-ng", "vi")
    assert rendered.fallback_from == f"piper:{model}"
    assert rendered.fallback_reason == "Piper program 'piper' not found on PATH"
    assert rendered.notice_vi is not None
    assert "Không dùng được bộ đọc piper" in rendered.notice_vi and "miền Bắc" in rendered.notice_vi
    assert store.exists(rendered.sha256)


def test_with_fallback_off_the_failure_is_raised_and_nothing_stored(tmp_path: Path, store: MediaStore) -> None:
    with pytest.raises(EngineUnavailable):
        render_text(SHORT, Voice("piper", str(tmp_path / "absent.onnx")), store, fallback=False)
    assert list(store.root.iterdir()) == []
