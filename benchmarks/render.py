"""Bulletin rendering offline: speed against raw synthesis, cache-hit latency, and bytes per minute.

    .venv/bin/python -m benchmarks.render

On the sample bulletin (bulletins/an-ninh-mang-lua-dao-truc-tuyen.md, about 4-5 minutes of speech), for
each offline espeak-ng voice, in the same run:

- **baseline**: raw engine synthesis (`EspeakEngine.synthesize`: PCM, no mastering, no encoding), as a
  multiple of real time (seconds of audio per second of wall time).
- **loa-xa**: `render_text` end to end (synthesis, silence trim, loudness passes with the 4x limiter, MP3
  at 32 kbps, measurement of the MP3, store), as a multiple of real time; with the MP3's LUFS and true peak.
- **size**: bytes per minute of the broadcast MP3 against a plain 128 kbps MP3 of the same raw synthesis.
- **cache hit**: what the audio layer does when the service finds an earlier render of the same input:
  `render_key` (hashes the text, voice and jingles) then `MediaStore.exists` and `MediaStore.read` of the
  stored MP3. The service's database lookup of the key is not included.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import Out, machine, stamp, table
from controller.audio import VOICES, EspeakEngine, MediaStore, Voice, render_key, render_text
from controller.audio.ffmpeg import pcm_input, run_ffmpeg

SAMPLE = Path(__file__).resolve().parents[1] / "bulletins" / "an-ninh-mang-lua-dao-truc-tuyen.md"


@dataclass
class VoiceRun:
    voice: str
    audio_s: float
    synth_s: float
    render_s: float
    lufs: float | None
    true_peak: float | None
    bytes_per_min: float
    plain_128k_bytes_per_min: float


@dataclass
class CacheRun:
    miss_s: float
    hit_median_s: float
    hit_p95_s: float
    lookups: int


def sample_text(words: int | None) -> str:
    _, front, body = SAMPLE.read_text(encoding="utf-8").split("---\n", 2)
    title = next(line.split(":", 1)[1].strip() for line in front.splitlines() if line.startswith("title:"))
    text = f"{title}.\n\n{body.strip()}"
    return " ".join(text.split()[:words]) if words else text


def plain_mp3_size(pcm: bytes, sample_rate: int) -> int:
    """A plain 128 kbps MP3 of the raw synthesis: no trim, no mastering."""
    args = [*pcm_input(sample_rate), "-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3", "pipe:1"]
    return len(run_ffmpeg(args, pcm).stdout)


def run_voice(name: str, text: str, store: MediaStore) -> VoiceRun:
    voice = Voice(engine="espeak-ng", name=name)
    engine = EspeakEngine()
    engine.synthesize("Xin chào.", voice)  # load the library outside the timing
    t = time.perf_counter()
    synthesis = engine.synthesize(text, voice)
    synth_s = time.perf_counter() - t
    t = time.perf_counter()
    rendered = render_text(text, voice, store, engine=engine)
    render_s = time.perf_counter() - t
    minutes = rendered.duration_s / 60
    return VoiceRun(
        voice=name,
        audio_s=synthesis.duration_s,
        synth_s=synth_s,
        render_s=render_s,
        lufs=rendered.lufs,
        true_peak=rendered.true_peak_dbtp,
        bytes_per_min=rendered.size_bytes / minutes,
        plain_128k_bytes_per_min=plain_mp3_size(synthesis.pcm, synthesis.sample_rate) / (synthesis.duration_s / 60),
    )


def run_cache(text: str, store: MediaStore, lookups: int) -> CacheRun:
    voice = Voice(engine="espeak-ng", name="vi")
    t = time.perf_counter()
    rendered = render_text(text, voice, store)
    miss_s = time.perf_counter() - t
    index = {render_key(text, voice): rendered.sha256}  # stands in for the service's AudioAsset.input_key
    times = []
    for _ in range(lookups):
        t = time.perf_counter()
        sha256 = index[render_key(text, voice)]
        if not store.exists(sha256):
            raise RuntimeError("cached render missing from the store")
        data = store.read(sha256)
        times.append(time.perf_counter() - t)
        if len(data) != rendered.size_bytes:
            raise RuntimeError("cached render read back short")
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return CacheRun(miss_s, statistics.median(times), p95, lookups)


def report(runs: list[VoiceRun], cache: CacheRun, words: int, out: Out) -> None:
    out("")
    out(f"Offline rendering, sample bulletin ({words} words), {stamp()}. Machine: {machine()}.")
    rows = [
        [
            r.voice,
            r.audio_s,
            f"{r.audio_s / r.synth_s:,.0f}x",
            f"{r.audio_s / r.render_s:,.1f}x",
            f"{r.render_s / r.synth_s:,.0f}",
            "n/a" if r.lufs is None else f"{r.lufs:.1f}",
            "n/a" if r.true_peak is None else f"{r.true_peak:.1f}",
            f"{r.bytes_per_min / 1000:.0f}",
            f"{r.plain_128k_bytes_per_min / 1000:.0f}",
            f"{r.bytes_per_min / r.plain_128k_bytes_per_min:.2f}",
        ]
        for r in runs
    ]
    headers = [
        "voice",
        "audio (s)",
        "baseline: synthesis only (x real time)",
        "loa-xa: full render (x real time)",
        "render / synthesis time",
        "LUFS",
        "true peak (dBTP)",
        "kB/min",
        "plain 128 kbps kB/min",
        "size vs 128 kbps",
    ]
    out(table(headers, rows))
    out("")
    out(f"Cache, {cache.lookups} lookups (render_key + MediaStore.exists + read; the service's DB query not included).")
    out(
        table(
            ["measure", "ms"],
            [
                ["render, cache miss", cache.miss_s * 1000],
                ["cache hit, median", cache.hit_median_s * 1000],
                ["cache hit, p95", cache.hit_p95_s * 1000],
                ["miss / hit", f"{cache.miss_s / cache.hit_median_s:,.0f}x"],
            ],
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.render", description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=None, help="first N words of the sample (default: all)")
    parser.add_argument("--voices", nargs="+", default=list(VOICES), choices=list(VOICES), help="espeak-ng voices")
    parser.add_argument("--lookups", type=int, default=1000, help="cache-hit lookups to time (default 1000)")
    args = parser.parse_args(argv)
    out: Out = print
    text = sample_text(args.words)
    words = len(text.split())
    out(f"benchmarks.render: {words} words, voices {', '.join(args.voices)} ...")
    with tempfile.TemporaryDirectory(prefix="loa-bench-render-") as tmp:
        store = MediaStore(Path(tmp) / "media")
        runs = [run_voice(name, text, store) for name in args.voices]
        cache = run_cache(text, store, args.lookups)
    report(runs, cache, words, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
