"""`loa user add` and `loa enroll-token`: logins and loudspeaker posts, on the local controller database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from loa.commands.database import local_database


def _user_add(args: argparse.Namespace) -> int:
    import getpass
    import os

    from sqlalchemy import select

    from controller.db.models import Commune, Province
    from controller.errors import ControllerError
    from controller.services.users import Role, create_user

    password = os.environ.get("LOA_NEW_PASSWORD") or getpass.getpass("Mật khẩu mới: ")
    try:
        with local_database(args.data_dir) as (_settings, factory), factory() as session, session.begin():
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
    print(f"Đã tạo tài khoản {args.username} ({args.role}).")
    return 0


def _enroll_token(args: argparse.Namespace) -> int:
    from controller.services.enrollment import main as enrollment_main

    argv = [args.agent_id, args.commune_code]
    if args.data_dir:
        argv += ["--data-dir", str(args.data_dir)]
    code: int = enrollment_main(argv)
    return code


def add_commands(sub: Any) -> None:
    """Add `loa user …` and `loa enroll-token` to the `loa` parser's subcommands."""
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
    p = sub.add_parser("enroll-token", help="mint a one-time enrolment token for a new loudspeaker post")
    p.add_argument("agent_id")
    p.add_argument("commune_code")
    p.add_argument("--data-dir", type=Path)
    p.set_defaults(func=_enroll_token)
