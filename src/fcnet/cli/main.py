"""``fcnet``: the one command-line entry point."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

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
    "export": "export",
    "playground": "playground",
    "exercise": "exercise",
}


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the usage is shown by --help only."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every subcommand."""
    from fcnet import __version__

    parser = Parser(prog="fcnet", description="Fully-connected neural networks, "
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
    """Run ``fcnet``; returns the exit code.

    2 for bad input (any ``FcnetError``), 3 for divergence, 1 for anything else: an error fcnet
    did not expect is a bug, reported as "internal error" with its traceback written to a file.
    """
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
        print(f"fcnet: error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        if debug:
            raise
        print("\nfcnet: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError as exc:
        if stdout_gone():  # the reader of stdout went away: stop quietly (see entry)
            raise
        return _internal(exc)
    except OSError as exc:
        if debug or not _disk_refused(exc):
            if debug:
                raise
            return _internal(exc)
        where = exc.filename or "a file"
        print(f"fcnet: error: cannot write {where}: {exc.strerror or exc}; free some space or choose a writable "
              "path (nothing else was changed)", file=sys.stderr)
        return 2
    except Exception as exc:
        if debug:
            raise
        return _internal(exc)


def _internal(exc: BaseException) -> int:
    path = write_traceback(exc)
    from fcnet.search.storage import mask_text  # a storage URL in the message keeps its password hidden

    print(f"fcnet: internal error: {type(exc).__name__}: {mask_text(_one_line(str(exc)))}; traceback written to "
          f"{path}", file=sys.stderr)
    return 1


def _disk_refused(exc: OSError) -> bool:
    """Whether the disk refused a write: full, read-only, no permission or over quota (bad input, exit 2)."""
    import errno

    return exc.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EFBIG)


def _one_line(msg: str) -> str:
    return " ".join(msg.split())


def write_traceback(exc: BaseException) -> Path:
    """Write ``exc``'s traceback to a new file in the temp directory; returns its path."""
    from fcnet.search.storage import mask_text, mask_url

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    # a storage URL may carry a password: mask it in the command line and in the traceback itself
    argv = " ".join(mask_url(a) if "@" in a and "=" not in a.split("@")[0] else mask_text(a) for a in sys.argv[1:])
    fd, name = tempfile.mkstemp(prefix=f"fcnet-traceback-{time.strftime('%Y%m%d-%H%M%S')}-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(mask_text(f"fcnet {argv}\n{text}"))
    return Path(name)


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool whose reader went away


def entry() -> None:
    """Console-script entry point.

    When the reader of stdout goes away (``fcnet datasets | head -1``) fcnet stops quietly with
    exit code 141 (128 + SIGPIPE), as other command-line tools do, instead of a traceback.
    """
    try:
        code = main()
        sys.stdout.flush()  # output still buffered: a closed pipe shows here, not at interpreter exit
    except BrokenPipeError:
        _silence_stdout()
        code = EXIT_BROKEN_PIPE
    sys.exit(code)


def stdout_gone() -> bool:
    """Whether stdout is a pipe whose reading end is closed."""
    try:
        import select

        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & select.POLLERR for _, ev in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no fileno (a test's StringIO), no poll on this platform
        return False


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's own flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    entry()
