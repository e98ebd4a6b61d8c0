"""benchmarks.agent_resources at a tiny size: it runs a real agent and a paho baseline and prints its table.

It never asserts on the figures themselves (the machine is shared); only that they were measured.
The run uses `--python` with this interpreter (the dev venv): building the agent-only venv takes
about 20 s, so its bookkeeping is tested below without pip.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from benchmarks import agent_resources


def test_agent_resources_benchmark_measures_agent_and_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--idle-s", "1", "--play-s", "1", "--settle-s", "0.5", "--python", sys.executable]
    assert agent_resources.main(argv) == 0
    out = capsys.readouterr().out
    rows = re.findall(r"^\| (paho-mqtt baseline|loa agent)\s*\| ([^|]*?)\s*\| ([\d.]+)\s*\|", out, re.MULTILINE)
    assert [(name, phase.split(" (")[0]) for name, phase, _ in rows] == [
        ("paho-mqtt baseline", "idle"),
        ("loa agent", "idle"),
        ("loa agent", "playing"),
        ("loa agent", "idle after a play"),
    ]
    assert all(float(rss) > 5 for _, _, rss in rows)  # a real process was measured
    assert f"interpreter: {sys.executable} (" in out
    assert "given with --python" in out
    assert re.search(r"agent's dependencies \(pyproject.toml: core \+ agent extra\): .*paho-mqtt \d", out)
    assert "targets, judged on the worse of the agent's two idle rows (idle / idle after a play): " in out
    assert "idle RSS ≤ 40 MB:" in out


def test_agent_dependencies_are_the_core_list_then_the_agent_extra_by_name() -> None:
    pyproject = {
        "project": {
            "dependencies": ["msgspec>=0.19", "PyNaCl >= 1.5"],
            "optional-dependencies": {
                "agent": ["paho-mqtt>=2.1", "psycopg[binary]>=3.2", "pynacl", "tomli; python_version < '3.11'"],
                "controller": ["fastapi"],
            },
        }
    }
    assert agent_resources.agent_dependencies(pyproject) == ["msgspec", "PyNaCl", "paho-mqtt", "psycopg", "tomli"]


def _fake_repo(root: Path) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "x"\nreadme = "README.md"\n'
        '[tool.setuptools.packages.find]\ninclude = ["loa*", "edge_agent*"]\n'
    )
    (root / "README.md").write_text("readme")
    for package in ("loa", "edge_agent", "tests"):
        (root / package / "__pycache__").mkdir(parents=True)
        (root / package / "__init__.py").write_text(f"# {package}")
        (root / package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (root / "loa_x.egg-info").mkdir()
    (root / "loa_x.egg-info" / "PKG-INFO").write_text("stale")
    (root / "notes.txt").write_text("not installed")
    return root


def test_the_project_copy_holds_what_pip_installs_and_its_key_follows_the_sources(tmp_path: Path) -> None:
    repo = _fake_repo(tmp_path / "repo")
    key = agent_resources.copy_project(tmp_path / "a", repo)
    copied = sorted(str(p.relative_to(tmp_path / "a")) for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert copied == ["README.md", "edge_agent/__init__.py", "loa/__init__.py", "pyproject.toml"]
    (repo / "loa" / "__pycache__" / "y.cpython-311.pyc").write_bytes(b"\1")
    (repo / "tests" / "__init__.py").write_text("# changed, but not installed")
    assert agent_resources.copy_project(tmp_path / "b", repo) == key
    (repo / "edge_agent" / "__init__.py").write_text("# changed")
    assert agent_resources.copy_project(tmp_path / "c", repo) != key


def test_the_agent_venv_is_rebuilt_for_a_new_pyproject_and_reinstalled_for_new_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def make_venv(venv: Path) -> None:
        calls.append("venv")
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").write_text("")

    def pip(_python: Path, *args: str, cwd: Path) -> None:
        calls.append(" ".join(a if not a.startswith(str(tmp_path)) else Path(a).name for a in args))

    monkeypatch.setattr(agent_resources, "_make_venv", make_venv)
    monkeypatch.setattr(agent_resources, "_pip", pip)
    venv, source = tmp_path / "venv", tmp_path / "src"
    source.mkdir()
    (source / "pyproject.toml").write_text("[project]\nname = 'x'\n")

    def prepare(source_key: str) -> str:
        calls.clear()
        return agent_resources.prepare_agent_venv(venv, source, source_key, lambda _line: None)

    assert prepare("k1").startswith("built now") and calls == ["venv", "src[agent]"]
    assert prepare("k1").startswith("reused as it was") and calls == []
    assert "reinstalled" in prepare("k2") and calls == ["--no-deps --force-reinstall src"]
    (source / "pyproject.toml").write_text("[project]\nname = 'x'\ndependencies = ['msgspec']\n")
    assert prepare("k2").startswith("built now") and calls == ["venv", "src[agent]"]
    (venv / "bin" / "python").unlink()  # a broken venv is built again
    assert prepare("k2").startswith("built now") and calls == ["venv", "src[agent]"]
