"""One edge agent's memory and CPU, idle and while playing, beside a bare paho-mqtt client.

`python -m benchmarks.agent_resources [--idle-s 20] [--play-s 20]`

Both are real processes on a private Mosquitto: `loa agent --config …` (the same command systemd
runs) and a `paho.mqtt.client` that connects and idles, the least any MQTT daemon in Python can
cost. RSS is read from /proc/<pid>/status, CPU from /proc/<pid>/stat (user + system ticks) over
the window. Playback uses the real ALSA player (mpg123 into ALSA's `null` sink, so the decoding
is real) when mpg123 is installed, else the virtual player. ALSA's null sink does not pace the
decoder the way a sound card does: mpg123 decodes the whole bulletin in tens of milliseconds, so
the "playing" row shows the agent's own cost while a play runs, not a Pi's real-time decoding cost.
Targets (issue 5): idle RSS ≤ 40 MB, idle CPU ≤ 1 %.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from benchmarks.common import Out, machine, mosquitto_for_benchmark, stamp, table
from loa.broker_url import parse_broker_url
from loa.clock import utcnow
from protocol import ManifestPlay, ScheduleManifest, Signer, Topics
from protocol.signing import encode_public_key, generate_private_key

TICKS = os.sysconf("SC_CLK_TCK")
RSS_TARGET_MB = 40.0
CPU_TARGET_PCT = 1.0

BASELINE = """
import sys, paho.mqtt.client as m
c = m.Client(m.CallbackAPIVersion.VERSION2, client_id="bench-baseline", protocol=m.MQTTv311, clean_session=False)
c.connect(sys.argv[1], int(sys.argv[2]), keepalive=30)
c.subscribe("bench/baseline/#", qos=1)
c.loop_forever()
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15)


def children_cpu_s(pid: int) -> float:
    """CPU of the decoder processes the agent runs (mpg123), collected when they exit."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / TICKS  # cutime, cstime


def measure(pid: int, seconds: float) -> tuple[float, float, float, float]:
    """(peak RSS MB, mean RSS MB, CPU % of one core, children's CPU %) over `seconds`."""
    start_cpu, start_kids, start = cpu_s(pid), children_cpu_s(pid), time.monotonic()
    samples = []
    while time.monotonic() - start < seconds:
        samples.append(rss_mb(pid))
        time.sleep(0.25)
    elapsed = time.monotonic() - start
    cpu = (cpu_s(pid) - start_cpu) / elapsed * 100
    kids = (children_cpu_s(pid) - start_kids) / elapsed * 100
    return max(samples), sum(samples) / len(samples), cpu, kids


def sine_mp3(seconds: float, directory: Path) -> bytes | None:
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    path = directory / "bench.mp3"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"sine=frequency=440:duration={seconds}", "-ac", "1", "-ar", "22050", "-b:a", "48k", str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


def serve(data: bytes) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/media/{hashlib.sha256(data).hexdigest()}.mp3"


def wait_online(broker: str, topics: Topics, agent_id: str, timeout: float = 30) -> None:
    address = parse_broker_url(broker)
    online = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-watch-{os.getpid()}")

    def on_message(_client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if b'"online"' in msg.payload:
            online.set()

    client.on_message = on_message
    client.connect(address.host, address.port)
    client.subscribe(topics.state(agent_id), qos=1)
    client.loop_start()
    try:
        if not online.wait(timeout):
            raise SystemExit("the agent never came online")
    finally:
        client.loop_stop()
        client.disconnect()


def publish_manifest(broker: str, topics: Topics, signer: Signer, agent_id: str, play: ManifestPlay) -> None:
    address = parse_broker_url(broker)
    now = utcnow()
    manifest = ScheduleManifest(
        agent_id=agent_id, issued_at=now, expires_at=now + timedelta(hours=1), revision=1,
        horizon_end=now + timedelta(hours=1), plays=(play,),
    )  # fmt: skip
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-ctl-{os.getpid()}")
    client.connect(address.host, address.port)
    client.loop_start()
    topic = topics.manifest(agent_id)
    client.publish(topic, signer.sign(topic, manifest), qos=1, retain=True).wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


def main(argv: list[str] | None = None, out: Out = print) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.agent_resources", description=__doc__.splitlines()[0])
    parser.add_argument("--idle-s", type=float, default=20.0, help="idle measuring window (default 20 s)")
    parser.add_argument("--play-s", type=float, default=20.0, help="length of the bulletin played (default 20 s)")
    parser.add_argument("--settle-s", type=float, default=3.0, help="wait after start before measuring idle")
    args = parser.parse_args(argv)
    real_player = shutil.which("mpg123") is not None
    with mosquitto_for_benchmark() as (broker, version), tempfile.TemporaryDirectory(prefix="loa-bench-") as tmp:
        out(f"benchmarks.agent_resources {stamp()}: broker {version} at {broker}; {machine()}")
        work = Path(tmp)
        audio = sine_mp3(args.play_s, work) if real_player else None
        if audio is None:
            real_player, audio = False, b"ID3" + os.urandom(20_000)
        httpd, url = serve(audio)
        signer = Signer(generate_private_key())
        topics = Topics(f"bench{os.getpid()}/loa/v1")
        agent_id = f"bench-{os.getpid()}"
        config = work / "agent.toml"
        config.write_text(
            "\n".join(
                [
                    f'agent_id = "{agent_id}"',
                    f'broker_url = "{broker}"',
                    f'controller_public_key = "{encode_public_key(signer.public_key)}"',
                    f'topic_root = "{topics.root}"',
                    f'state_dir = "{work / "state"}"',
                    f'player = "{"alsa" if real_player else "virtual"}"',
                    'alsa_device = "null"',
                    "amplifier_warmup_s = 0.2",
                    "amplifier_cooldown_s = 0.5",
                    'quiet_hours_start = "00:00"',  # the benchmark runs at any hour
                    'quiet_hours_end = "00:00"',
                ]
            )
        )
        env = dict(os.environ, GPIOZERO_PIN_FACTORY="mock")
        address = parse_broker_url(broker)
        agent = subprocess.Popen([sys.executable, "-m", "loa.cli", "agent", "--config", str(config)], env=env)
        baseline = subprocess.Popen([sys.executable, "-c", BASELINE, address.host, str(address.port)])
        rows: list[list[object]] = []
        try:
            wait_online(broker, topics, agent_id)
            time.sleep(args.settle_s)
            for name, proc in (("paho-mqtt baseline", baseline), ("loa agent", agent)):
                peak, mean, cpu, _ = measure(proc.pid, args.idle_s)
                rows.append([name, "idle", peak, mean, cpu])
            lead = 4.0
            play = ManifestPlay(
                play_id="bench" + "0" * 11, starts_at=utcnow() + timedelta(seconds=lead), bulletin_id="bench",
                audio_url=url, sha256=hashlib.sha256(audio).hexdigest(), size_bytes=len(audio),
                duration_s=args.play_s,
            )  # fmt: skip
            publish_manifest(broker, topics, signer, agent_id, play)
            time.sleep(lead)
            peak, mean, cpu, kids = measure(agent.pid, args.play_s + 1.0)
            player = "mpg123 → ALSA null" if real_player else "virtual player"
            rows.append(["loa agent", f"playing ({player})", peak, mean, cpu])
            if real_player:
                rows.append(["  its mpg123 decoder", "playing", "", "", kids])
        finally:
            for proc in (agent, baseline):
                proc.terminate()
                proc.wait(30)
            httpd.shutdown()
            httpd.server_close()
    out(table(["process", "phase", "peak RSS (MB)", "mean RSS (MB)", "CPU (% of one core)"], rows))
    idle_rss, idle_cpu = float(str(rows[1][2])), float(str(rows[1][4]))
    verdict = (
        f"targets: idle RSS ≤ {RSS_TARGET_MB:.0f} MB: {'met' if idle_rss <= RSS_TARGET_MB else 'NOT met'} "
        f"({idle_rss:.1f}); idle CPU ≤ {CPU_TARGET_PCT:.0f} %: "
        f"{'met' if idle_cpu <= CPU_TARGET_PCT else 'NOT met'} ({idle_cpu:.2f})"
    )
    out(verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
