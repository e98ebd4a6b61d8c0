"""Sample text, voices and engine cases shared by the audio tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from controller.audio import EdgeTtsEngine, EspeakEngine, TtsEngine, Voice
from tests.controller.audio.microsoft import FakeMicrosoft

# About 120 words of plain bulletin Vietnamese (a word per syllable, as Vietnamese is written).
TEXT_120_WORDS = (
    "Thực hiện kế hoạch phổ biến, giáo dục pháp luật của xã, đài truyền thanh xin thông tin tới bà con "
    "một số điểm cần lưu ý về phòng chống lừa đảo trên mạng. Khi có người lạ gọi điện tự xưng là công an, "
    "tòa án hay ngân hàng và yêu cầu chuyển tiền, bà con tuyệt đối không làm theo, hãy gác máy và báo ngay "
    "cho công an xã. Không đọc mã xác thực cho bất kỳ ai. Không bấm vào đường liên kết lạ do người không "
    "quen biết gửi tới. Khi thấy tin nhắn vay tiền gấp từ tài khoản của người thân, hãy gọi điện lại theo "
    "số quen thuộc để hỏi cho rõ trước khi chuyển tiền. Mỗi người dân tỉnh táo là một lá chắn vững chắc."
)

TEXT_30_S = ". ".join(TEXT_120_WORDS.split(". ")[:4]) + "."
"""The first four sentences: about 30 seconds of espeak-ng speech, to keep mastering tests quick."""


def espeak_voice(name: str = "vi", **params: int) -> Voice:
    return Voice(engine="espeak-ng", name=name, **params)


@dataclass(frozen=True)
class EngineCase:
    """An engine to run the shared engine suite against, and one of its Vietnamese voices."""

    make: Callable[[], TtsEngine]
    voice: Voice


def edge_engine() -> EdgeTtsEngine:
    """edge-tts talking to the stand-in Microsoft service (real MP3 in, real decoding)."""
    return EdgeTtsEngine(stream=FakeMicrosoft(), backoff_s=0.01)


# Every TtsEngine runs the same contract suite. Piper is absent: neither it nor a model is installable here.
ENGINE_CASES = {
    "espeak-ng": EngineCase(EspeakEngine, espeak_voice()),
    "edge-tts": EngineCase(edge_engine, Voice(engine="edge-tts", name="vi-VN-HoaiMyNeural")),
}
