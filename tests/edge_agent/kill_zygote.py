"""A fork server for the kill test: imports the agent once, then forks a real agent process per request.

Python and the agent's libraries take most of a second to import on a small machine; forking
from a process that already imported them starts an agent in milliseconds, so the kill test
reaches hundreds of kills in minutes. Each child runs `edge_agent.cli.run_agent`, the function
behind `loa agent --config`, in a fresh process that the test then kills for real.

Protocol, one JSON object per line. In (stdin): {"id", "config", "env", "log"}. Out (stdout):
{"spawned": pid, "id": id} and, when a child ends, {"exit": pid, "code": exit code or -signal}.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time

import aiomqtt  # noqa: F401  (imported once here, inherited by every child)
import gpiozero.pins.mock  # noqa: F401
import httpx  # noqa: F401

from edge_agent.cli import run_agent

_lock = threading.Lock()


def _emit(obj: dict[str, object]) -> None:
    with _lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def _reap() -> None:
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            time.sleep(0.005)
            continue
        _emit({"exit": pid, "code": os.waitstatus_to_exitcode(status)})


def _child(request: dict[str, object]) -> None:
    env = request.get("env") or {}
    assert isinstance(env, dict)
    for key in ("LOA_AGENT_FAULT", "LOA_AGENT_FAULT_AFTER"):
        os.environ.pop(key, None)
    os.environ.update({str(k): str(v) for k, v in env.items()})
    fd = os.open(str(request["log"]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {os.getpid()} %(name)s %(message)s", force=True)
    code = 1
    try:
        code = run_agent(str(request["config"]))
    finally:
        os._exit(code)


def main() -> None:
    threading.Thread(target=_reap, name="reaper", daemon=True).start()
    _emit({"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        _emit({"spawned": pid, "id": request["id"]})


if __name__ == "__main__":
    main()
