"""`loa schedule import FILE` and `loa schedule export COMMUNE_CODE`: schedule files against the local database.

Controller parts are imported inside the commands, as in every `loa` command group, so `loa agent` never loads them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from loa.commands.database import local_database


def _schedule_import(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from common.clock import utcnow
    from controller.db.session import transaction
    from controller.errors import ControllerError
    from controller.services.access import Actor
    from controller.services.programmes import ProgrammeRejected
    from controller.services.schedule_files import import_schedule

    failed = False
    with local_database(args.data_dir) as (settings, factory):
        horizon = timedelta(hours=settings.manifest_horizon_hours)
        for path in args.files:
            try:
                with transaction(factory) as session:
                    report = import_schedule(session, path, Actor.system("loa schedule import"), utcnow(), horizon)
            except ControllerError as exc:
                print(f"{path.name}: LỖI: {exc.message_vi}")
                if isinstance(exc, ProgrammeRejected):
                    for issue in exc.issues:
                        print(f"    [{issue.kind.value}] {issue.code}: {issue.message_vi}")
                failed = True
                continue
            print(
                f"{path.name}: xã {report.commune_code}: {len(report.created)} chương trình mới, "
                f"{len(report.updated)} sửa, {len(report.unchanged)} không đổi; "
                f"{len(report.changed_agents)} cụm loa có lịch mới"
            )
            _print_list("  khung giờ mới", report.slots_created)
            _print_list("  nhóm mới", report.groups_created)
            _print_list("  không có trong tệp (giữ nguyên)", report.untouched)
            for warning in report.warnings:
                print(f"  CHÚ Ý: {warning}")
    if not failed:
        print("Bộ điều khiển đang chạy sẽ gửi lịch mới tới các cụm loa ở lần làm mới kế tiếp (mặc định 5 phút).")
    return 1 if failed else 0


def _print_list(label: str, items: list[str]) -> None:
    if items:
        print(f"{label}: {', '.join(items)}")


def _schedule_export(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from controller.db.models import Commune
    from controller.errors import ControllerError
    from controller.services.schedule_files import export_schedule

    with local_database(args.data_dir) as (_settings, factory), factory() as session:
        commune_id = session.scalar(select(Commune.id).where(Commune.code == args.commune))
        if commune_id is None:
            print(f"Không có xã mã {args.commune}.", file=sys.stderr)
            return 2
        try:
            text = export_schedule(session, commune_id)
        except ControllerError as exc:
            print(exc.message_vi, file=sys.stderr)
            return 1
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(args.output)
    return 0


def add_commands(subparsers: Any) -> None:
    """Add `loa schedule import|export` to the `loa` parser's subcommands."""
    p = subparsers.add_parser("schedule", help="work with schedule files (schedules/*.yaml)")
    schedule = p.add_subparsers(dest="schedule_command", required=True)
    p = schedule.add_parser(
        "import", help="apply schedule files to the controller database, with the same checks as the web page"
    )
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--data-dir", type=Path, help="the controller's data directory (default: LOA_DATA_DIR or var)")
    p.set_defaults(func=_schedule_import)
    p = schedule.add_parser("export", help="write a commune's schedule as YAML")
    p.add_argument("commune", metavar="COMMUNE_CODE")
    p.add_argument("-o", "--output", type=Path, help="write to this file instead of standard output")
    p.add_argument("--data-dir", type=Path)
    p.set_defaults(func=_schedule_export)
