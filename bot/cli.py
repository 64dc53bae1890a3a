"""The ``bestbot`` command line: parse arguments, dispatch, map errors to exit codes.

Exit status: 0 on success, 2 on bad input or config (one line on stderr), 1 when the
database can't be used (one line: which database, and why) or on an unexpected failure.
Commands themselves live in :mod:`bot.commands`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from bot.commands import COMMAND_MODULES
from bot.errors import UserError
from bot.logs import redact, setup_logging
from storage.db import DatabaseUnavailable, unavailable_reason

CommandFunc = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="bestbot",
        description="Public contract alerts and enquiry triage for social enterprises.",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $BESTBOT_CONFIG, else ./bestbot.toml, else built-in defaults)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bestbot`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    func: CommandFunc | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return func(args)
    except UserError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except DatabaseUnavailable as exc:
        print(redact(f"bestbot: cannot use the database {exc}"), file=sys.stderr)
        return 1
    except Exception as exc:
        reason = unavailable_reason(exc)
        if reason is None:
            raise
        print(redact(f"bestbot: cannot use the database: {reason}"), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
