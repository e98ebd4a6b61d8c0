"""The `loa` command. Controller parts are imported only by the subcommands that need them,
so `loa agent` runs with the `agent` extra alone."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def _controller(args: argparse.Namespace) -> int:
    import uvicorn

    from controller.app import create_app
    from controller.config import get_settings

    overrides: dict[str, object] = {"http_host": args.host, "http_port": args.port}
    if args.broker:
        overrides["mqtt_url"] = args.broker
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    if args.mqtt_port:
        overrides["embedded_mqtt_port"] = args.mqtt_port
    settings = get_settings(**overrides)
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port)
    return 0


def _agent(args: argparse.Namespace) -> int:
    from edge_agent.cli import run_agent

    return run_agent(args.config)


def _sim(args: argparse.Namespace) -> int:
    from simulator.cli import run_sim

    return run_sim(
        agents=args.agents,
        controller_url=args.controller,
        broker_url=args.broker,
        speed=args.speed,
        state_dir=args.state_dir,
        controller_data_dir=args.controller_data_dir,
    )


def _bulletin_check(args: argparse.Namespace) -> int:
    from controller.errors import ControllerError
    from controller.services.bulletin_check import check_bulletin_file, format_check

    failed = False
    for path in args.files:
        try:
            check = check_bulletin_file(path)
        except FileNotFoundError:
            print(f"== {path}: Không tìm thấy tệp.")
            failed = True
            continue
        except ControllerError as exc:
            print(f"== {path}: {exc.message_vi}")
            failed = True
            continue
        print(format_check(check))
        failed = failed or bool(check.problems)
    return 1 if failed else 0


def _demo(args: argparse.Namespace) -> int:
    from simulator.demo import run_demo

    return run_demo(agents=args.agents, broker_url=args.broker, speed=args.speed, data_dir=args.data_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loa", description="loa-xa: commune loudspeaker broadcasting")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

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

    p = sub.add_parser("sim", help="run simulated agents against a running controller")
    p.add_argument("--agents", type=int, default=20)
    p.add_argument("--controller", default="http://127.0.0.1:8000", help="controller base URL")
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    p.add_argument("--speed", type=float, default=1.0, help="virtual players run this many times real time")
    p.add_argument("--state-dir", type=Path)
    p.add_argument(
        "--controller-data-dir",
        type=Path,
        help="the controller's data directory, to log in to its embedded broker (same machine)",
    )
    p.set_defaults(func=_sim)

    p = sub.add_parser("bulletin", help="work with bulletin files")
    bulletin = p.add_subparsers(dest="bulletin_command", required=True)
    p = bulletin.add_parser("check", help="print the normalised text, the estimated duration and any problems")
    p.add_argument("files", nargs="+", type=Path)
    p.set_defaults(func=_bulletin_check)

    p = sub.add_parser("demo", help="controller + embedded broker + simulated agents, one bulletin end to end")
    p.add_argument("--agents", type=int, default=20)
    p.add_argument("--broker", help="use this broker instead of the embedded one")
    p.add_argument("--speed", type=float, default=30.0, help="virtual players run this many times real time")
    p.add_argument("--data-dir", type=Path)
    p.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.func(args)
        return code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
