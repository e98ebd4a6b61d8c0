"""The edge agent installs and runs with the `agent` extra alone: no FastAPI, SQLAlchemy or pydub, and none of
the heavy libraries the controller uses for validation and key files (pydantic, cryptography), which would cost
the agent about 20 MB of RSS on a 512 MB board."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import distribution, requires

FORBIDDEN = {"fastapi", "sqlalchemy", "pydub", "starlette", "alembic", "apscheduler", "uvicorn", "amqtt"}
HEAVY = {"pydantic", "pydantic-core", "cryptography", "httpx", "httpcore", "anyio"}
MODULES_NOT_ON_THE_AGENT = {"controller", "simulator", "yaml", "pydantic", "pydantic_core", "cryptography", "httpx"}


def _name(req: str) -> str:
    return re.split(r"[\s;<>=!~\[(]", req, maxsplit=1)[0].lower().replace("_", "-")


def _closure(extra: str) -> set[str]:
    """Names of every distribution that `pip install loa-xa[extra]` pulls in, from installed metadata."""
    base = [r for r in requires("loa-xa") or [] if "extra ==" not in r or f'extra == "{extra}"' in r]
    todo = [_name(r) for r in base]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            reqs = distribution(name).requires or []
        except Exception:
            continue
        todo += [_name(r) for r in reqs if "extra ==" not in r]
    return seen


def test_agent_extra_pulls_no_controller_dependencies() -> None:
    closure = _closure("agent")
    assert {"paho-mqtt", "gpiozero", "msgspec", "pynacl"} <= closure
    assert not closure & (FORBIDDEN | HEAVY), closure & (FORBIDDEN | HEAVY)


def test_agent_code_imports_and_starts_without_controller_packages() -> None:
    """In a fresh interpreter where the controller's libraries cannot be imported at all."""
    blocker = (
        "import sys, importlib.abc\n"
        f"BLOCK = {sorted(FORBIDDEN | MODULES_NOT_ON_THE_AGENT)!r}\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] in BLOCK:\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import edge_agent, edge_agent.cli, protocol, loa.cli\n"
        "from loa.cli import main\n"
        "try:\n"
        "    main(['agent', '--help'])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "print('agent-only ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "agent-only ok" in out.stdout
    assert "--config" in out.stdout
