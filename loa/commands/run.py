"""`loa controller`, `loa agent`, `loa sim` and `loa demo`: the long-running processes.

Each imports its side only when it runs, so `loa agent` works with the `agent` extra alone.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

PROCESSES_HELP = "worker processes for the agents (default: one per 1,500 agents, at most nproc)"


def _controller(args: argparse.Namespace) -> int:
    import uvicorn

    from controller.app import create_app
    from controller.config import get_settings
    from controller.server import IDLE_CONNECTION_S

    overrides: dict[str, object] = {"http_host": args.host, "http_port": args.port}
    if args.broker:
        overrides["mqtt_url"] = args.broker
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    if args.mqtt_port:
        overrides["embedded_mqtt_port"] = args.mqtt_port
    settings = get_settings(**overrides)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        timeout_keep_alive=IDLE_CONNECTION_S,
    )
    return 0


def _agent(args: argparse.Namespace) -> int:
    from edge_agent.cli import run_agent

    return run_agent(args.config)


def _sim(args: argparse.Namespace) -> int:
    import os

    from simulator.cli import run_agents, run_province_slot

    if args.controller:
        return run_agents(
            agents=args.agents,
            controller_url=args.controller,
            broker_url=args.broker or "mqtt://127.0.0.1:1883",
            speed=args.speed or 1.0,
            state_dir=args.state_dir,
            controller_data_dir=args.controller_data_dir,
            login=(args.user, os.environ.get("LOA_API_PASSWORD", "")) if args.user else None,
            processes=args.processes,
        )
    return run_province_slot(
        agents=args.agents,
        broker=args.broker or "mosquitto",
        speed=args.speed or 30.0,
        processes=args.processes,
        fleet_file=args.fleet_file,
        bulletin=args.bulletin,
        faults=args.fault,
        seed=args.seed,
        json_path=args.json,
        lead_s=args.lead,
        data_dir=args.state_dir,
    )


def _demo(args: argparse.Namespace) -> int:
    from simulator.demo import run_demo

    return run_demo(
        agents=args.agents,
        broker_url=args.broker,
        speed=args.speed,
        data_dir=args.data_dir,
        processes=args.processes,
        json_path=args.json,
    )


def add_commands(sub: Any) -> None:
    """Add the run commands to the `loa` parser's subcommands."""
    p = sub.add_parser("controller", help="run the controller (API, scheduler, MQTT dispatch)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--broker", help="mqtt://host:port; default: start the embedded broker")
    p.add_argument("--mqtt-port", type=int, help="port of the embedded broker (default 1883)")
    p.add_argument("--data-dir", type=Path)
    p.set_defaults(func=_controller)

    p = sub.add_parser("agent", help="run an edge agent on a loudspeaker post")
    p.add_argument("--config", type=Path, required=True, help="agent TOML file")
    p.set_defaults(func=_agent)

    p = sub.add_parser(
        "sim",
        help="simulate a province: one slot on a local controller (default), or agents against a running one",
    )
    p.add_argument("--agents", type=int, default=20)
    p.add_argument("--processes", type=int, help=PROCESSES_HELP)
    p.add_argument(
        "--broker",
        help="slot mode: mosquitto (a private one, the default), embedded, or mqtt://host:port; "
        "with --controller: that controller's broker (default mqtt://127.0.0.1:1883)",
    )
    p.add_argument("--speed", type=float, help="players run this many times real time (30 in slot mode, else 1)")
    p.add_argument("--fleet-file", type=Path, help="province layout YAML (communes, villages, clusters)")
    p.add_argument("--bulletin", type=Path, help="render this bulletin file instead of short test audio")
    p.add_argument("--fault", action="append", default=[], help="inject a fault, e.g. offline=0.1 (repeatable)")
    p.add_argument("--seed", type=int, default=1, help="seed for choosing which agents get each fault")
    p.add_argument("--json", type=Path, help="also write the report as JSON to this file (- for stdout)")
    p.add_argument("--lead", type=float, help="seconds between booking and playing (default grows with the fleet)")
    p.add_argument("--state-dir", type=Path, help="where the controller (slot mode) and the agents keep their state")
    p.add_argument("--controller", help="a running controller's base URL: run agents against it until Ctrl-C")
    p.add_argument(
        "--controller-data-dir",
        type=Path,
        help="with --controller: its data directory, to log in to its embedded broker (same machine)",
    )
    p.add_argument("--user", help="with --controller: an admin login; its password is read from LOA_API_PASSWORD")
    p.set_defaults(func=_sim)
    p = sub.add_parser("demo", help="controller + embedded broker + simulated agents, one bulletin end to end")
    p.add_argument("--agents", type=int, default=20)
    p.add_argument("--broker", help="use this broker instead of the embedded one")
    p.add_argument("--speed", type=float, default=30.0, help="virtual players run this many times real time")
    p.add_argument("--processes", type=int, help=PROCESSES_HELP)
    p.add_argument("--json", type=Path, help="also write the simulator's report as JSON to this file (- for stdout)")
    p.add_argument("--data-dir", type=Path)
    p.set_defaults(func=_demo)
