"""One edge agent's memory and CPU as a Pi runs it (the `agent` extra alone), beside a bare paho-mqtt client.

`python -m benchmarks.agent_resources [--idle-s 20] [--play-s 20] [--python PATH]`

**The interpreter.** A Pi has a venv holding only `pip install "loa-xa[agent]"`
(firmware_config/INSTALL.en.md, scripts/check-agent-install.sh), so the agent and the baseline run
with such a venv, not with the development venv: the dev venv's other packages change what the
agent imports (httpx's `__init__` imports rich and click when they are installed, about 5 MB).
The venv is kept in `.cache/bench-agent-venv` (`.cache/.gitignore` keeps it out of git). Each run
copies the working tree's pyproject.toml, readme and packages to a temporary directory and
installs from that copy: the venv is built afresh (`pip install "<copy>[agent]"`, about 20 s) when
pyproject.toml or the Python changed, and only the project is reinstalled (`--no-deps
--force-reinstall`, 5–15 s) when only the sources changed. So the agent measured is the working
tree's code, and its dependencies are exactly pyproject's core list and `agent` extra as they are
now. A lock file lets concurrent runs share the venv without rebuilding it under each other.
`--python PATH` runs both with that interpreter instead (e.g. `.venv/bin/python`, to see what the
dev venv costs); it must be able to import `loa`. The header names the interpreter, where it
imports `loa` from, and its versions of the agent's dependencies, named as pyproject.toml names them.

**The processes.** Both are real processes on a private Mosquitto, started in an empty temporary
directory (so the repository is not on their `sys.path`) and without PYTHONPATH: the venv's
`loa agent --config …` (the command systemd runs; `python -m loa.cli agent …` under `--python`)
and a `paho.mqtt.client` that connects and idles, the least any MQTT daemon in Python can cost.
RSS is read from /proc/<pid>/status, CPU from /proc/<pid>/stat (user + system ticks) over the
window. Playback uses the real ALSA player (mpg123 into ALSA's `null` sink, so the decoding is
real) when mpg123 is installed, else the virtual player. ALSA's null sink does not pace the
decoder the way a sound card does: mpg123 decodes the whole bulletin in tens of milliseconds, so
the "playing" row shows the agent's own cost while a play runs, not a Pi's real-time decoding cost.

**The rows.** The baseline idle; the agent idle after it came online (and `--settle-s`); the agent
while one play downloads and plays; the agent idle again after that play, measured once its
`finished` confirmation arrived and the amplifier cooldown and `--settle-s` passed, so the modules
that downloading and playing imported count. Targets (issue 5): idle RSS ≤ 40 MB, idle CPU ≤ 1 %,
judged on the worse of the agent's two idle rows (peak RSS, CPU). It exits 1 if the play did not
finish.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from benchmarks.common import Out, machine, mosquitto_for_benchmark, stamp, table
from common.broker_url import parse_broker_url
from common.clock import utcnow
from protocol import (
    AgentState,
    AgentStatus,
    Confirmation,
    ManifestPlay,
    PlayEvent,
    ProtocolError,
    ScheduleManifest,
    Signer,
    Topics,
    read_report,
)
from protocol.signing import encode_public_key, generate_private_key

TICKS = os.sysconf("SC_CLK_TCK")
RSS_TARGET_MB = 40.0
CPU_TARGET_PCT = 1.0
WARMUP_S = 0.2
COOLDOWN_S = 0.5

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache"
AGENT_VENV = CACHE / "bench-agent-venv"
VENV_STAMP = "loa-bench-stamp.json"
BUILD_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in")
"""Top-level files `pip install .` may read, besides the readme pyproject.toml names and the packages."""

BASELINE = """
import sys, paho.mqtt.client as m
c = m.Client(m.CallbackAPIVersion.VERSION2, client_id="bench-baseline", protocol=m.MQTTv311, clean_session=False)
c.connect(sys.argv[1], int(sys.argv[2]), keepalive=30)
c.subscribe("bench/baseline/#", qos=1)
c.loop_forever()
"""

PROBE = """
import importlib.metadata as md, importlib.util, json, sys
versions = {}
for name in sys.argv[1:]:
    try:
        versions[name] = md.version(name)
    except md.PackageNotFoundError:
        versions[name] = None
try:
    spec = importlib.util.find_spec("loa.cli")
except ImportError:
    spec = None
print(json.dumps({
    "version": sys.version.split()[0], "prefix": sys.prefix, "venv": sys.prefix != sys.base_prefix,
    "loa": spec.origin if spec else None, "versions": versions,
    "distributions": len({(d.metadata["Name"] or "").lower() for d in md.distributions()}),
}))
"""


# --- the interpreter: an agent-only venv, or --python ---------------------------------------------


def read_pyproject(root: Path) -> dict[str, Any]:
    with (root / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def agent_dependencies(pyproject: dict[str, Any]) -> list[str]:
    """The distributions a Pi installs for the agent: pyproject's core dependencies, then its `agent` extra."""
    project = pyproject.get("project", {})
    requirements = [*project.get("dependencies", []), *project.get("optional-dependencies", {}).get("agent", [])]
    names: list[str] = []
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        if match and _normalise(match.group(1)) not in {_normalise(n) for n in names}:
            names.append(match.group(1))
    return names


def copy_project(dest: Path, repo: Path = REPO) -> str:
    """Copy what `pip install <repo>` reads (build files, readme, packages) to `dest`; return its sha256.

    Installing from a copy leaves the working tree alone (no build/ or egg-info written into it)
    and installs one consistent state of it, even while someone edits it.
    """
    dest.mkdir(parents=True)
    for name in BUILD_FILES:
        if (repo / name).is_file():
            shutil.copy2(repo / name, dest / name)
    pyproject = read_pyproject(dest)
    readme = pyproject.get("project", {}).get("readme")
    readme = readme.get("file") if isinstance(readme, dict) else readme
    if isinstance(readme, str) and (repo / readme).is_file():
        shutil.copy2(repo / readme, dest / readme)
    find = pyproject.get("tool", {}).get("setuptools", {}).get("packages", {}).get("find", {})
    include, exclude = find.get("include", ["*"]), find.get("exclude", [])
    for path in sorted(repo.iterdir()):
        if (
            path.is_dir()
            and (path / "__init__.py").is_file()
            and any(fnmatch(path.name, pattern) for pattern in include)
            and not any(fnmatch(path.name, pattern) for pattern in exclude)
        ):
            shutil.copytree(path, dest / path.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    digest = hashlib.sha256()
    for file in sorted(p for p in dest.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(dest)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def _pip(python: Path, *args: str, cwd: Path) -> None:
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", *args], capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        raise SystemExit(f"pip install {' '.join(args)} failed:\n{(done.stdout + done.stderr)[-3000:]}")


def _make_venv(venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)


def prepare_agent_venv(venv: Path, source: Path, source_key: str, out: Out) -> str:
    """Make `venv` hold exactly `source[agent]`; return what was done. The caller holds the lock."""
    deps_key = hashlib.sha256(
        (source / "pyproject.toml").read_bytes() + f"\0{sys.version}\0{sys.base_prefix}".encode()
    ).hexdigest()
    python = venv / "bin" / "python"
    try:
        done = json.loads((venv / VENV_STAMP).read_text())
    except (OSError, ValueError):
        done = {}
    if done.get("deps") != deps_key or not python.is_file():
        why = "new" if not python.is_file() else "pyproject.toml or the Python changed"
        out(f"building the agent-only venv {venv} ({why}; about 20 s)…")
        shutil.rmtree(venv, ignore_errors=True)
        _make_venv(venv)
        _pip(python, f"{source}[agent]", cwd=source.parent)
        action = f"built now ({why})"
    elif done.get("source") != source_key:
        out(f"reinstalling loa-xa into the agent-only venv {venv} (sources changed)…")
        _pip(python, "--no-deps", "--force-reinstall", str(source), cwd=source.parent)
        action = "reused; loa-xa reinstalled now (sources changed)"
    else:
        action = "reused as it was (no change since it was last installed)"
    (venv / VENV_STAMP).write_text(json.dumps({"deps": deps_key, "source": source_key}))
    return action


@dataclass(frozen=True)
class Interpreter:
    python: Path
    agent_command: list[str]  # followed by `--config PATH`
    how: str  # for the header
    dependencies: list[str]  # distribution names, from pyproject.toml


@contextmanager
def agent_only_interpreter(out: Out) -> Iterator[Interpreter]:
    """The cached agent-only venv, brought up to date with the working tree, locked against rebuilds until exit."""
    CACHE.mkdir(exist_ok=True)
    if not (CACHE / ".gitignore").exists():
        (CACHE / ".gitignore").write_text("# Made by benchmarks/agent_resources.py: nothing here belongs in git.\n*\n")
    with (
        (CACHE / "bench-agent-venv.lock").open("a") as lock,
        tempfile.TemporaryDirectory(prefix="loa-bench-src-") as tmp,
    ):
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            out(f"waiting for another run of this benchmark to finish with {AGENT_VENV}…")
            fcntl.flock(lock, fcntl.LOCK_EX)
        source = Path(tmp) / "loa-xa"
        source_key = copy_project(source)
        action = prepare_agent_venv(AGENT_VENV, source, source_key, out)
        dependencies = agent_dependencies(read_pyproject(source))
        fcntl.flock(lock, fcntl.LOCK_SH)  # other runs may use the venv meanwhile, but not rebuild it
        yield Interpreter(
            python=AGENT_VENV / "bin" / "python",
            agent_command=[str(AGENT_VENV / "bin" / "loa"), "agent"],
            how=f'agent-only venv: pip install "<working tree>[agent]", {action}',
            dependencies=dependencies,
        )


def given_interpreter(path: str) -> Interpreter:
    found = shutil.which(path) if os.sep not in path else path
    if not found or not Path(found).is_file():
        raise SystemExit(f"--python {path}: no such interpreter")
    python = Path(found).absolute()  # not resolved: a venv's python is a symlink out of the venv
    return Interpreter(
        python=python,
        agent_command=[str(python), "-m", "loa.cli", "agent"],
        how="given with --python",
        dependencies=agent_dependencies(read_pyproject(REPO)),
    )


def describe(interpreter: Interpreter, cwd: Path, env: dict[str, str]) -> list[str]:
    """Header lines: the interpreter, where it imports loa from, its versions of the agent's dependencies."""
    done = subprocess.run(
        [str(interpreter.python), "-c", PROBE, *interpreter.dependencies],
        capture_output=True, text=True, cwd=cwd, env=env, check=True,
    )  # fmt: skip
    probe = json.loads(done.stdout)
    if not probe["loa"]:
        raise SystemExit(f"{interpreter.python} cannot import loa.cli: install loa-xa into it, or drop --python")
    where = f"venv {probe['prefix']}" if probe["venv"] else f"not a venv (prefix {probe['prefix']})"
    versions = ", ".join(f"{name} {version or 'NOT INSTALLED'}" for name, version in probe["versions"].items())
    return [
        f"interpreter: {interpreter.python} (Python {probe['version']}, {where}; {interpreter.how}); "
        f"{probe['distributions']} distributions installed; loa imported from {probe['loa']}",
        f"agent's dependencies (pyproject.toml: core + agent extra): {versions}",
    ]


# --- measuring ------------------------------------------------------------------------------------


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
        try:
            state = read_report(bytes(msg.payload)).message  # signed by the agent since v1.2
        except ProtocolError:
            return
        if isinstance(state, AgentState) and state.status is AgentStatus.ONLINE:
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


class ConfirmationWatch:
    """The agent's play confirmations, received as the controller would receive them."""

    END = frozenset({PlayEvent.FINISHED, PlayEvent.FAILED, PlayEvent.SKIPPED})

    def __init__(self, broker: str, topics: Topics, agent_id: str) -> None:
        address = parse_broker_url(broker)
        self.end: Confirmation | None = None
        self.ended_at = 0.0  # time.monotonic() when `end` arrived
        self._ended = threading.Event()
        subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-confirmations-{os.getpid()}")
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *_: subscribed.set()
        self._client.connect(address.host, address.port)
        self._client.subscribe(topics.confirmations(agent_id), qos=1)
        self._client.loop_start()
        if not subscribed.wait(10):
            self.close()
            raise SystemExit("could not subscribe to the agent's confirmations")

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            message = read_report(bytes(msg.payload)).message
        except ProtocolError:
            return
        if isinstance(message, Confirmation) and message.event in self.END and not self._ended.is_set():
            self.end, self.ended_at = message, time.monotonic()
            self._ended.set()

    def wait(self, timeout: float) -> Confirmation | None:
        """The play's last confirmation (finished, failed or skipped), or None if none came in `timeout`."""
        self._ended.wait(timeout)
        return self.end

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def main(argv: list[str] | None = None, out: Out = print) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.agent_resources", description=__doc__.splitlines()[0])
    parser.add_argument("--idle-s", type=float, default=20.0, help="each idle measuring window (default 20 s)")
    parser.add_argument("--play-s", type=float, default=20.0, help="length of the bulletin played (default 20 s)")
    parser.add_argument(
        "--settle-s",
        type=float,
        default=3.0,
        help="wait before each idle window: after start, after the play's cooldown",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="run the agent and the baseline with this interpreter (it must import loa) instead of the "
        "agent-only venv in .cache/bench-agent-venv",
    )
    args = parser.parse_args(argv)
    with agent_only_interpreter(out) if args.python is None else _given(args.python) as interpreter:
        return _run(args, interpreter, out)


@contextmanager
def _given(path: str) -> Iterator[Interpreter]:
    yield given_interpreter(path)


def _run(args: argparse.Namespace, interpreter: Interpreter, out: Out) -> int:
    real_player = shutil.which("mpg123") is not None
    with mosquitto_for_benchmark() as (broker, version), tempfile.TemporaryDirectory(prefix="loa-bench-") as tmp:
        work = Path(tmp)
        cwd = work / "cwd"  # empty: nothing of the repository on the processes' sys.path
        cwd.mkdir()
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env["GPIOZERO_PIN_FACTORY"] = "mock"
        out(f"benchmarks.agent_resources {stamp()}: broker {version} at {broker}; {machine()}")
        for line in describe(interpreter, cwd, env):
            out(line)
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
                    f"amplifier_warmup_s = {WARMUP_S}",
                    f"amplifier_cooldown_s = {COOLDOWN_S}",
                    'quiet_hours_start = "00:00"',  # the benchmark runs at any hour
                    'quiet_hours_end = "00:00"',
                ]
            )
        )
        address = parse_broker_url(broker)
        agent = subprocess.Popen([*interpreter.agent_command, "--config", str(config)], cwd=cwd, env=env)
        baseline = subprocess.Popen(
            [str(interpreter.python), "-c", BASELINE, address.host, str(address.port)], cwd=cwd, env=env
        )
        rows: list[list[object]] = []
        idle: list[tuple[str, float, float]] = []  # the agent's idle rows: (phase, peak RSS, CPU)
        ended: Confirmation | None = None
        watch: ConfirmationWatch | None = None
        try:
            wait_online(broker, topics, agent_id)
            time.sleep(args.settle_s)
            for name, proc in (("paho-mqtt baseline", baseline), ("loa agent", agent)):
                peak, mean, cpu, _ = measure(proc.pid, args.idle_s)
                rows.append([name, "idle", peak, mean, cpu])
            idle.append(("idle", peak, cpu))
            watch = ConfirmationWatch(broker, topics, agent_id)
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
            ended = watch.wait(args.play_s + 60)
            if ended is None:
                raise SystemExit("the play never ended: no finished, failed or skipped confirmation")
            # Idle again once the amplifier's cooldown has passed after the play, and the settling time.
            time.sleep(max(0.0, watch.ended_at + COOLDOWN_S + args.settle_s - time.monotonic()))
            peak, mean, cpu, _ = measure(agent.pid, args.idle_s)
            phase = "idle after a play"
            if ended.event != PlayEvent.FINISHED:
                phase += f" (it ended {ended.event.value}: {ended.reason})"
            rows.append(["loa agent", phase, peak, mean, cpu])
            idle.append((phase, peak, cpu))
        finally:
            if watch is not None:
                watch.close()
            for proc in (agent, baseline):
                proc.terminate()
                proc.wait(30)
            httpd.shutdown()
            httpd.server_close()
    assert ended is not None  # else the SystemExit above
    out(table(["process", "phase", "peak RSS (MB)", "mean RSS (MB)", "CPU (% of one core)"], rows))
    rss_phase, rss, _ = max(idle, key=lambda row: row[1])
    cpu_phase, _, cpu = max(idle, key=lambda row: row[2])
    out(
        f"targets, judged on the worse of the agent's two idle rows ({' / '.join(p for p, _, _ in idle)}): "
        f"idle RSS ≤ {RSS_TARGET_MB:.0f} MB: {'met' if rss <= RSS_TARGET_MB else 'NOT met'} "
        f"({rss:.2f} MB peak, {rss_phase}); idle CPU ≤ {CPU_TARGET_PCT:.0f} %: "
        f"{'met' if cpu <= CPU_TARGET_PCT else 'NOT met'} ({cpu:.2f} %, {cpu_phase})"
    )
    if ended.event != PlayEvent.FINISHED:
        out(f"the play did not finish: {ended.event.value} ({ended.reason})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
