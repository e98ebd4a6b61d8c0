"""The `loa` command. Controller parts are imported only by the subcommands that need them,
so `loa agent` runs with the `agent` extra alone."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


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


def _bulletin_check(args: argparse.Namespace) -> int:
    from controller.config import get_settings
    from controller.errors import ControllerError
    from controller.services.bulletin_check import check_bulletin_file, format_check
    from controller.text.commune import load_abbreviations_dir, using_commune_abbreviations

    directory = get_settings().abbreviations_dir
    try:
        table = load_abbreviations_dir(directory) if directory else {}
    except ControllerError as exc:
        print(exc.message_vi)
        return 1
    failed = False
    for path in args.files:
        try:
            with using_commune_abbreviations(table):
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


@contextmanager
def _local_database(data_dir: Path | None) -> Iterator[tuple[Any, Any]]:
    """The controller's settings and a session factory on its database, migrated, for local admin commands."""
    from controller.config import get_settings
    from controller.db.migrate import upgrade
    from controller.db.session import make_engine, make_session_factory

    settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade(engine)
        yield settings, make_session_factory(engine)
    finally:
        engine.dispose()


def _bulletin_render(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from common.clock import utcnow
    from controller.audio import MediaStore
    from controller.services.approval import DurationWindow
    from controller.services.bulletin_render import MAX_BYTES_PER_5_MIN, render_files

    failed = False
    with _local_database(args.data_dir) as (settings, factory):
        store = MediaStore(settings.resolved_media_dir)
        window = DurationWindow(settings.bulletin_min_s, settings.bulletin_max_s)
        files = [f for f in args.files if f.name != "README.md"]  # so `bulletins/*.md` just works
        reports = render_files(factory, store, files, now=utcnow, window=window, jingles_dir=settings.jingles_dir)
        print(f"{'tệp':<48} {'thời lượng':>10} {'LUFS':>6} {'đỉnh dBTP':>9} {'KB':>6}  bộ đọc")
        for report in tqdm(reports, total=len(files), unit="bản tin", file=sys.stderr, disable=args.quiet):
            name = report.path.name[:48]
            if report.error:
                failed = True
                tqdm.write(f"{name:<48} LỖI: {report.error}")
                continue
            minutes, seconds = divmod(round(report.duration_s), 60)
            lufs = f"{report.lufs:.1f}" if report.lufs is not None else "-"
            peak = f"{report.true_peak_dbtp:.1f}" if report.true_peak_dbtp is not None else "-"
            tqdm.write(
                f"{name:<48} {minutes:>7}:{seconds:02d} {lufs:>6} {peak:>9} {report.size_bytes / 1000:>6.0f}"
                f"  {report.engine}/{report.voice} ({report.import_action})"
            )
            if report.fallback:
                tqdm.write(f"    dùng giọng dự phòng: {report.fallback}")
            if report.problem:
                failed = True
                tqdm.write(f"    VẤN ĐỀ: {report.problem}")
            if report.size_bytes > MAX_BYTES_PER_5_MIN * max(report.duration_s, 300) / 300:
                failed = True
                tqdm.write("    VẤN ĐỀ: tệp âm thanh lớn hơn 1,2 MB cho 5 phút.")
    print("Bản tin được nhập ở trạng thái nháp; cần gửi duyệt và được lãnh đạo duyệt trước khi xếp lịch.")
    return 1 if failed else 0


def _bulletin_import(args: argparse.Namespace) -> int:
    from common.clock import utcnow
    from controller.db.session import transaction
    from controller.errors import ControllerError
    from controller.services.access import Actor
    from controller.services.bulletin_files import import_bulletin_file

    failed = False
    with _local_database(args.data_dir) as (_settings, factory):
        for path in args.files:
            try:
                with transaction(factory) as session:
                    result = import_bulletin_file(session, path, Actor.system("loa bulletin import"), utcnow())
                print(f"{path.name}: {result.action} ({result.bulletin_id})")
            except ControllerError as exc:
                print(f"{path.name}: LỖI: {exc.message_vi}")
                failed = True
    return 1 if failed else 0


def _bulletin_export(args: argparse.Namespace) -> int:
    from controller.services.bulletin_files import export_all
    from controller.services.bulletins import list_bulletins

    with _local_database(args.data_dir) as (_settings, factory), factory() as session:
        rows = [b for b in list_bulletins(session) if not args.ids or b.id in args.ids]
        for path in export_all(session, args.directory, rows):
            print(path)
    return 0


def _user_add(args: argparse.Namespace) -> int:
    import getpass
    import os

    from sqlalchemy import select

    from controller.config import get_settings
    from controller.db.migrate import upgrade
    from controller.db.models import Commune, Province
    from controller.db.session import make_engine, make_session_factory
    from controller.errors import ControllerError
    from controller.services.users import Role, create_user

    settings = get_settings(**({"data_dir": args.data_dir} if args.data_dir else {}))
    password = os.environ.get("LOA_NEW_PASSWORD") or getpass.getpass("Mật khẩu mới: ")
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade(engine)
        with make_session_factory(engine)() as session, session.begin():
            commune_id = province_id = None
            if args.commune:
                commune_id = session.scalar(select(Commune.id).where(Commune.code == args.commune))
                if commune_id is None:
                    print(f"Không có xã mã {args.commune}.", file=sys.stderr)
                    return 2
            if args.province:
                province_id = session.scalar(select(Province.id).where(Province.code == args.province))
                if province_id is None:
                    print(f"Không có tỉnh mã {args.province}.", file=sys.stderr)
                    return 2
            create_user(
                session,
                args.username,
                password,
                Role(args.role),
                commune_id=commune_id,
                province_id=province_id,
                full_name=args.full_name,
            )
    except ControllerError as exc:
        print(exc.message_vi, file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"Đã tạo tài khoản {args.username} ({args.role}).")
    return 0


def _enroll_token(args: argparse.Namespace) -> int:
    from controller.services.enrollment import main as enrollment_main

    argv = [args.agent_id, args.commune_code]
    if args.data_dir:
        argv += ["--data-dir", str(args.data_dir)]
    code: int = enrollment_main(argv)
    return code


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


PROCESSES_HELP = "worker processes for the agents (default: one per 1,500 agents, at most nproc)"


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

    p = sub.add_parser("user", help="manage logins")
    user = p.add_subparsers(dest="user_command", required=True)
    p = user.add_parser("add", help="add a login; the password is read from LOA_NEW_PASSWORD or prompted")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=["admin", "province", "officer", "leader"])
    p.add_argument("--commune", help="commune code (officer, leader)")
    p.add_argument("--province", help="province code (province viewer)")
    p.add_argument("--full-name", default="")
    p.add_argument("--data-dir", type=Path)
    p.set_defaults(func=_user_add)

    p = sub.add_parser("bulletin", help="work with bulletin files")
    bulletin = p.add_subparsers(dest="bulletin_command", required=True)
    p = bulletin.add_parser("check", help="print the normalised text, the estimated duration and any problems")
    p.add_argument("files", nargs="+", type=Path)
    p.set_defaults(func=_bulletin_check)
    p = bulletin.add_parser("render", help="import files into the controller database (as drafts) and render audio")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--data-dir", type=Path, help="the controller's data directory (default: LOA_DATA_DIR or var)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_bulletin_render)
    p = bulletin.add_parser("import", help="import files into the controller database; changed bulletins become drafts")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--data-dir", type=Path)
    p.set_defaults(func=_bulletin_import)
    p = bulletin.add_parser("export", help="write bulletins from the database as Markdown files")
    p.add_argument("directory", type=Path)
    p.add_argument("ids", nargs="*", help="only these bulletin ids")
    p.add_argument("--data-dir", type=Path)
    p.set_defaults(func=_bulletin_export)

    p = sub.add_parser("demo", help="controller + embedded broker + simulated agents, one bulletin end to end")
    p.add_argument("--agents", type=int, default=20)
    p.add_argument("--broker", help="use this broker instead of the embedded one")
    p.add_argument("--speed", type=float, default=30.0, help="virtual players run this many times real time")
    p.add_argument("--processes", type=int, help=PROCESSES_HELP)
    p.add_argument("--json", type=Path, help="also write the simulator's report as JSON to this file (- for stdout)")
    p.add_argument("--data-dir", type=Path)
    p.set_defaults(func=_demo)

    from loa.schedule_cli import add_schedule_commands

    add_schedule_commands(sub)

    p = sub.add_parser("enroll-token", help="mint a one-time enrolment token for a new loudspeaker post")
    p.add_argument("agent_id")
    p.add_argument("commune_code")
    p.add_argument("--data-dir", type=Path)
    p.set_defaults(func=_enroll_token)
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
