"""`loa bulletin check|render|import|export`: bulletin files against the local controller database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from loa.commands.database import local_database


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


def _bulletin_render(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from common.clock import utcnow
    from controller.audio import MediaStore
    from controller.services.approval import DurationWindow
    from controller.services.bulletin_render import MAX_BYTES_PER_5_MIN, render_files

    failed = False
    with local_database(args.data_dir) as (settings, factory):
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
    with local_database(args.data_dir) as (_settings, factory):
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

    with local_database(args.data_dir) as (_settings, factory), factory() as session:
        rows = [b for b in list_bulletins(session) if not args.ids or b.id in args.ids]
        for path in export_all(session, args.directory, rows):
            print(path)
    return 0


def add_commands(sub: Any) -> None:
    """Add `loa bulletin …` to the `loa` parser's subcommands."""
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
