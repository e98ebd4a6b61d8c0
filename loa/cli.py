"""The `loa` command: the parser and `main`. Each command group lives in `loa.commands`.

Controller parts are imported only by the subcommands that need them, so `loa agent` runs with the
`agent` extra alone.
"""

from __future__ import annotations

import argparse
import logging
import sys

from loa.commands import bulletin, run, schedule, user


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loa", description="loa-xa: commune loudspeaker broadcasting")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (run, user, bulletin, schedule):
        group.add_commands(sub)
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
