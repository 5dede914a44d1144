"""The `zkp-ledger` entry point: parses the command line and reports errors as one line."""

from __future__ import annotations

import argparse
import importlib
import sys

from ledger.errors import LedgerError
from pipeline import __version__
from pipeline.commands import COMMAND_MODULES
from pipeline.errors import PipelineError

DEFAULT_LEDGER = "./zkp-ledger/ledger.jsonl"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--ledger", default=DEFAULT_LEDGER, help=f"ledger file (default {DEFAULT_LEDGER})")
    common.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser = argparse.ArgumentParser(
        prog="zkp-ledger",
        description="Prove dataset statistics with Groth16 over BLS12-381 and record them in an auditable ledger.",
    )
    parser.add_argument("--version", action="version", version=f"zkp-ledger {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that command group is not built yet
                continue
            raise
        module.register(subparsers, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except (PipelineError, LedgerError, ValueError, OSError) as exc:
        print(f"zkp-ledger {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"zkp-ledger {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
