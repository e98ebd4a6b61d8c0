"""Offline neural voices with Piper, when an administrator supplies a voice model.

`Voice(engine="piper", name="/srv/loa/piper/vi_VN-vais1000-medium.onnx")`: the name is the model file, with
its `.onnx.json` config beside it (Piper's layout). A relative name is looked up in `PiperEngine(model_dir=)`.
The `piper` program (`pip install piper-tts`, or the release binary) is run as
`piper --model M --output_raw [--length_scale S]` with the text on stdin; it prints 16-bit mono PCM at the
model's sample rate (from the config). Piper has no pitch control, so `Voice.pitch` is ignored.

Honest status: neither Piper nor a model can be installed on the build machine (no internet), so real Piper
synthesis is untested here. What is tested: a missing model, a missing config, a missing program, each a
clear `EngineUnavailable` in both languages, and the fallback to espeak-ng that follows.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from controller.audio.engine import (
    DEFAULT_RATE_WPM,
    EngineUnavailable,
    Synthesis,
    Voice,
    check_text,
    check_voice_engine,
)
from controller.errors import AudioError

RATE_RANGE = (60, 240)
SECONDS_PER_CHAR = 0.05  # a generous time limit: Piper on a Raspberry Pi 4 speaks at about 2-5x real time
MIN_TIMEOUT_S = 30.0


class PiperEngine:
    """Piper voices, one `.onnx` model per voice, run through the `piper` program. 16-bit mono PCM.

    Each call starts its own process, so calls from several threads run side by side.
    """

    name = "piper"

    def __init__(self, model_dir: Path | None = None, program: str = "piper") -> None:
        self.model_dir = model_dir
        self.program = program

    def model_path(self, voice: Voice) -> Path:
        """The model file `voice.name` names. Raises `EngineUnavailable` if it is not there."""
        path = Path(voice.name)
        if not path.is_absolute() and self.model_dir is not None:
            path = self.model_dir / path
        if path.suffix != ".onnx" or not path.is_file():
            raise EngineUnavailable(
                f"Piper model not found: {path}",
                f"Không tìm thấy mô hình giọng đọc Piper '{voice.name}'. "
                "Quản trị viên cần cài tệp mô hình .onnx (kèm tệp .onnx.json).",
            )
        return path

    def sample_rate(self, model: Path) -> int:
        """The model's sample rate, from the `.onnx.json` config beside it."""
        config = model.with_name(model.name + ".json")
        try:
            rate = json.loads(config.read_text(encoding="utf-8"))["audio"]["sample_rate"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EngineUnavailable(
                f"Piper model config unreadable: {config}: {exc}",
                f"Thiếu hoặc hỏng tệp cấu hình '{config.name}' của mô hình giọng đọc Piper.",
            ) from exc
        if not isinstance(rate, int) or not 8000 <= rate <= 48000:
            raise EngineUnavailable(
                f"Piper config {config}: bad sample rate {rate!r}", "Tệp cấu hình Piper sai tần số mẫu."
            )
        return rate

    def executable(self) -> str:
        """The `piper` program. Raises `EngineUnavailable` if it is not installed."""
        found = shutil.which(self.program)
        if found is None:
            raise EngineUnavailable(
                f"Piper program {self.program!r} not found on PATH",
                "Chưa cài chương trình đọc Piper trên máy chủ. Quản trị viên cần cài 'piper-tts'.",
            )
        return found

    def synthesize(self, text: str, voice: Voice) -> Synthesis:
        text = " ".join(check_text(text).split())  # one line: piper reads a sentence per line
        check_voice_engine(self.name, voice)
        if not RATE_RANGE[0] <= voice.rate_wpm <= RATE_RANGE[1]:
            raise AudioError(
                f"Piper rate {voice.rate_wpm} wpm outside {RATE_RANGE}",
                f"Tốc độ đọc {voice.rate_wpm} không hợp lệ; hãy chọn từ {RATE_RANGE[0]} đến {RATE_RANGE[1]}.",
            )
        model = self.model_path(voice)
        rate = self.sample_rate(model)
        command = [self.executable(), "--model", str(model), "--output_raw"]
        if voice.rate_wpm != DEFAULT_RATE_WPM:
            command += ["--length_scale", f"{DEFAULT_RATE_WPM / voice.rate_wpm:.3f}"]
        timeout = max(MIN_TIMEOUT_S, SECONDS_PER_CHAR * len(text))
        try:
            done = subprocess.run(command, input=text.encode(), capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineUnavailable(f"Piper did not run: {exc}", "Chương trình đọc Piper không chạy được.") from exc
        if done.returncode != 0 or not done.stdout:
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-2:]
            raise EngineUnavailable(
                f"Piper failed ({done.returncode}), {len(done.stdout)} bytes: {' / '.join(tail)}",
                "Chương trình đọc Piper gặp lỗi và không tạo ra âm thanh.",
            )
        pcm = done.stdout[: len(done.stdout) // 2 * 2]
        return Synthesis(pcm=pcm, sample_rate=rate, channels=1, sample_width=2, engine=self.name, voice=voice.name)
