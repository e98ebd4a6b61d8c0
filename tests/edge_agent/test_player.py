"""One contract suite run against both players, as Mopidy runs its audio tests on GStreamer and a dummy.

The ALSA player runs real subprocesses through its configurable command (`sleep`, `sh`), so its
lifecycle, stop and failure mapping are exercised without a sound card.
"""

from __future__ import annotations

import array
import asyncio
import shutil
import subprocess
import wave
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.clock import ManualClock
from edge_agent.player import STOPPED, AlsaPlayer, Player, PlayerBusy, VirtualPlayer, failure_reason, write_tone


@pytest.fixture(params=["virtual", "alsa"])
def player(request: pytest.FixtureRequest, tmp_path: Path) -> Player:
    if request.param == "virtual":
        return VirtualPlayer()
    return AlsaPlayer(
        "hw:9",
        command=["sleep", "{duration}"],
        tone_command=["sleep", "{duration}"],
        tone_dir=tmp_path / "tones",
    )


@pytest.fixture
def mp3(tmp_path: Path) -> Path:
    path = tmp_path / "a.mp3"
    path.write_bytes(b"ID3" + bytes(100))
    return path


def test_both_players_satisfy_the_protocol(player: Player) -> None:
    assert isinstance(player, Player)


@pytest.mark.asyncio
async def test_play_runs_to_the_end(player: Player, mp3: Path) -> None:
    outcome = await asyncio.wait_for(player.play(mp3, volume=70, duration_s=0.3), 10)
    assert outcome.completed and outcome.error is None
    assert outcome.duration_played_s == pytest.approx(0.3, abs=0.25)
    assert outcome.ended_at >= outcome.started_at


@pytest.mark.asyncio
async def test_stop_ends_the_play_early(player: Player, mp3: Path) -> None:
    task = asyncio.create_task(player.play(mp3, volume=70, duration_s=30))
    await asyncio.sleep(0.2)
    await player.stop()
    outcome = await asyncio.wait_for(task, 10)
    assert not outcome.completed
    assert outcome.error == STOPPED and outcome.stopped
    assert 0 < outcome.duration_played_s < 5


@pytest.mark.asyncio
async def test_stop_when_idle_leaves_the_next_play_whole(player: Player, mp3: Path) -> None:
    await player.stop()  # a stop button pressed while nothing plays must not cut the next bulletin short
    outcome = await asyncio.wait_for(player.play(mp3, volume=70, duration_s=0.3), 10)
    assert outcome.completed and not outcome.stopped and outcome.error is None


@pytest.mark.asyncio
async def test_missing_file_fails_with_a_reason(player: Player, tmp_path: Path) -> None:
    outcome = await player.play(tmp_path / "gone.mp3", volume=70, duration_s=0.1)
    assert not outcome.completed
    assert outcome.error is not None and outcome.error.startswith("missing-file")


@pytest.mark.asyncio
async def test_one_item_at_a_time(player: Player, mp3: Path) -> None:
    first = asyncio.create_task(player.play(mp3, volume=70, duration_s=30))
    await asyncio.sleep(0.2)
    with pytest.raises(PlayerBusy):
        await player.play(mp3, volume=70, duration_s=0.1)
    await player.stop()
    await asyncio.wait_for(first, 10)


@pytest.mark.asyncio
async def test_tone_plays_for_its_length(player: Player) -> None:
    outcome = await asyncio.wait_for(player.tone(seconds=0.2, frequency_hz=1000, volume=50), 10)
    assert outcome.completed


@pytest.mark.asyncio
async def test_virtual_player_runs_faster_but_reports_audio_seconds(mp3: Path) -> None:
    player = VirtualPlayer(speed=50)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    outcome = await player.play(mp3, volume=40, duration_s=5.0)
    assert loop.time() - t0 < 2.0
    assert outcome.duration_played_s == 5.0
    assert (outcome.ended_at - outcome.started_at).total_seconds() == pytest.approx(5.0)
    assert player.last is not None and (player.last.kind, player.last.volume) == ("audio", 40)


@pytest.mark.asyncio
async def test_alsa_command_gets_device_volume_and_file(tmp_path: Path, mp3: Path) -> None:
    out = tmp_path / "argv.txt"
    player = AlsaPlayer("plughw:1,0", command=["sh", "-c", f'echo "$@" > {out}', "sh", "{device}", "{scale}", "{file}"])
    outcome = await player.play(mp3, volume=50, duration_s=1)
    assert outcome.completed
    assert out.read_text().split() == ["plughw:1,0", "16384", str(mp3)]
    assert player.argv(player.command, mp3, 0)[-3:] == ["plughw:1,0", "0", str(mp3)]


@pytest.mark.asyncio
async def test_default_command_is_mpg123_on_the_device(mp3: Path) -> None:
    player = AlsaPlayer("hw:0")
    argv = player.argv(player.command, mp3, 100)
    assert argv == ["mpg123", "-q", "-o", "alsa", "-a", "hw:0", "-f", "32768", str(mp3)]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("stderr", "code", "reason"),
    [
        ("ALSA lib pcm_dmix.c: unable to open slave: Device or resource busy", 1, "device-busy"),
        ("ALSA lib pcm.c:2664:(snd_pcm_open_noupdate) Unknown PCM hw:9", 1, "device-unavailable"),
        ("[src/mpg123.c:695] error: Cannot open file a.mp3: No such file or directory", 1, "missing-file"),
        ("Note: Illegal Audio-MPEG-Header 0x00000000 at offset 0.", 2, "decode-error"),
        ("something else entirely", 3, "player-error: exit code 3: something else entirely"),
    ],
)
async def test_alsa_failures_get_specific_reasons(mp3: Path, stderr: str, code: int, reason: str) -> None:
    player = AlsaPlayer(command=["sh", "-c", f"echo '{stderr}' >&2; exit {code}", "sh", "{file}"])
    outcome = await player.play(mp3, volume=80, duration_s=1)
    assert not outcome.completed
    assert outcome.error is not None and outcome.error.startswith(reason)


@pytest.mark.asyncio
async def test_alsa_missing_command_is_reported(mp3: Path) -> None:
    outcome = await AlsaPlayer(command=["/nonexistent/mpg123", "{file}"]).play(mp3, volume=80, duration_s=1)
    assert outcome.error == "player-not-found: /nonexistent/mpg123"


@pytest.mark.asyncio
async def test_alsa_cancelled_play_kills_the_process(tmp_path: Path, mp3: Path) -> None:
    pidfile = tmp_path / "pid"
    player = AlsaPlayer(command=["sh", "-c", f"echo $$ > {pidfile}; exec sleep 30", "sh", "{file}"])
    task = asyncio.create_task(player.play(mp3, volume=80, duration_s=30))
    while not pidfile.exists() or not pidfile.read_text().strip():
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pid = int(pidfile.read_text())
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def test_failure_reason_for_a_signal() -> None:
    assert failure_reason(-9, b"") == "player-error: killed by signal 9"


def test_tone_wav_is_a_sine_of_the_asked_length(tmp_path: Path) -> None:
    path = write_tone(tmp_path, 0.5, 440, 60)
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        assert wav.getnframes() == wav.getframerate() // 2
    assert write_tone(tmp_path, 0.5, 440, 60) == path  # cached


# -- the real decoder: mpg123 into ALSA's null sink and into a WAV file -----------------------------

MPG123 = shutil.which("mpg123")
needs_mpg123 = pytest.mark.skipif(MPG123 is None, reason="mpg123 is not installed (scripts/system-deps.sh)")


def real_mp3(tmp_path: Path, seconds: float = 0.5) -> Path:
    """A real MP3 (a 440 Hz sine), encoded with the ffmpeg that imageio-ffmpeg ships."""
    ffmpeg = pytest.importorskip("imageio_ffmpeg").get_ffmpeg_exe()
    path = tmp_path / "sine.mp3"
    subprocess.run(
        [
            ffmpeg,
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-ac",
            "1",
            "-ar",
            "22050",
            "-b:a",
            "48k",
            str(path),
        ],
        check=True,
    )
    return path


def wav_peak(path: Path) -> int:
    with wave.open(str(path)) as wav:
        frames = array.array("h", wav.readframes(wav.getnframes()))
    return max(abs(int(x)) for x in frames)


@needs_mpg123
@pytest.mark.asyncio
async def test_real_mpg123_plays_into_the_alsa_null_sink(tmp_path: Path) -> None:
    player = AlsaPlayer("null")
    outcome = await player.play(real_mp3(tmp_path), volume=80, duration_s=0.5)
    assert outcome.completed and outcome.error is None
    assert outcome.duration_played_s == 0.5  # the audio's length: the real device paces the decoder


@needs_mpg123
@pytest.mark.asyncio
async def test_real_mpg123_volume_scales_the_samples(tmp_path: Path) -> None:
    """A file sink (`-w`) shows the decoded samples: volume 50 gives half the peak of volume 100."""
    mp3 = real_mp3(tmp_path)
    peaks = {}
    for volume in (100, 50):
        out = tmp_path / f"v{volume}.wav"
        player = AlsaPlayer("null", command=["mpg123", "-q", "-w", str(out), "-f", "{scale}", "{file}"])
        assert (await player.play(mp3, volume=volume, duration_s=0.5)).completed
        peaks[volume] = wav_peak(out)
    assert peaks[100] > 3000
    assert peaks[50] == pytest.approx(peaks[100] / 2, rel=0.05)


@needs_mpg123
@pytest.mark.asyncio
async def test_real_mpg123_on_a_missing_device_says_device_unavailable(tmp_path: Path) -> None:
    outcome = await AlsaPlayer("no-such-pcm").play(real_mp3(tmp_path), volume=80, duration_s=0.5)
    assert not outcome.completed
    assert outcome.error is not None and outcome.error.startswith("device-unavailable"), outcome.error


@needs_mpg123
@pytest.mark.asyncio
async def test_real_mpg123_on_a_file_gone_since_the_check_says_missing_file(tmp_path: Path) -> None:
    gone = tmp_path / "evicted.mp3"  # e.g. deleted between the player's check and the decoder's open
    player = AlsaPlayer("null", command=["mpg123", "-q", "-o", "alsa", "-a", "{device}", str(gone)])
    outcome = await player.play(real_mp3(tmp_path), volume=80, duration_s=0.5)
    assert not outcome.completed and outcome.error is not None
    assert outcome.error.startswith("missing-file: "), outcome.error


@pytest.mark.asyncio
async def test_virtual_player_on_a_manual_clock_plays_until_the_clock_passes_the_end(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 5, 27, 10, 0, tzinfo=UTC))
    player = VirtualPlayer(clock=clock)
    mp3 = tmp_path / "a.mp3"
    mp3.write_bytes(b"ID3")
    task = asyncio.create_task(player.play(mp3, volume=50, duration_s=10))
    await asyncio.sleep(0)
    clock.advance(9.9)
    await asyncio.sleep(0.01)
    assert not task.done() and player.is_playing
    clock.advance(0.1)
    outcome = await asyncio.wait_for(task, 5)
    assert outcome.completed and outcome.duration_played_s == 10
