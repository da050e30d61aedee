"""``fcnet``: the one command-line entry point."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from fcnet.errors import FcnetError

# subcommand → module in fcnet.cli defining add_parser(subparsers) and run(args) -> int
COMMANDS = {
    "train": "train",
    "eval": "evaluate",
    "predict": "predict",
    "datasets": "datasets",
    "graph": "graph",
    "bench": "bench",
    "lab": "lab",
    "search": "search",
    "lr-find": "lr_find",
    "playground": "playground",
}


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every subcommand."""
    from fcnet import __version__

    parser = argparse.ArgumentParser(prog="fcnet", description="Fully-connected neural networks, "
                                     "built from the computation graph up.")
    parser.add_argument("--version", action="version", version=f"fcnet {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        importlib.import_module(f"fcnet.cli.{module}").add_parser(sub, name)
    for command in sub.choices.values():  # `fcnet train ... --debug` works as well as `fcnet --debug train`
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show tracebacks of errors")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``fcnet``; returns the exit code (2 for bad input, 3 for divergence)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    debug = args.debug or "--debug" in argv
    try:
        return int(args.func(args) or 0)
    except FcnetError as exc:
        if debug:
            raise
        print(f"fcnet: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except (ValueError, TypeError, KeyError, FileNotFoundError, NotADirectoryError, RuntimeError) as exc:
        if debug:
            raise
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"fcnet: error: {msg}", file=sys.stderr)
        return 2


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
