"""Make the shipped jingles with the bundled ffmpeg's `aevalsrc` (pure synthesis, no samples, our own work).

    .venv/bin/python bulletins/jingles/make_jingles.py

Each jingle is a soft three-note chime: decaying sines with a quieter octave partial, a 10 ms attack so no
note clicks, and a fade at the end. 22.05 kHz mono 16-bit WAV. Mastering brings them to 3 LU under speech.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg

HERE = Path(__file__).resolve().parent
C5, E5, G5 = 523.25, 659.26, 783.99
SPACING_S = 0.32
LENGTH_S = 2.4
JINGLES = {"chime-up.wav": (C5, E5, G5), "chime-down.wav": (G5, E5, C5)}


def note(frequency: float, start: float) -> str:
    """One bell-like note starting at `start`: fundamental and octave, each decaying exponentially."""
    t = f"(t-{start})"
    tone = f"(sin(2*PI*{frequency}*{t})+0.3*exp(-4*{t})*sin(4*PI*{frequency}*{t}))"
    return f"gte(t,{start})*min(1,{t}/0.01)*0.22*exp(-2.6*{t})*{tone}"


def make(name: str, notes: tuple[float, ...]) -> None:
    expression = "+".join(note(f, i * SPACING_S) for i, f in enumerate(notes))
    source = f"aevalsrc='{expression}':s=22050:d={LENGTH_S}"
    fade = f"afade=t=out:st={LENGTH_S - 0.4}:d=0.4"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"]
    command += ["-i", source, "-af", fade, "-ac", "1", "-c:a", "pcm_s16le", "-map_metadata", "-1"]
    subprocess.run([*command, "-fflags", "+bitexact", "-flags:a", "+bitexact", str(HERE / name)], check=True)


if __name__ == "__main__":
    for jingle_name, jingle_notes in JINGLES.items():
        make(jingle_name, jingle_notes)
        print(HERE / jingle_name)
