"""The ``dfer`` command: a thin layer over the library. ``dfer COMMAND --help`` documents each.

One module per command group, each with ``add_parser(commands)`` and ``run(args)``:
:mod:`~dfer.cli.data` (``synth``, ``data``), :mod:`~dfer.cli.preprocess`, :mod:`~dfer.cli.predict`
(``predict``, ``assets``, ``demo``), :mod:`~dfer.cli.curation` (``annotate``, ``build``),
:mod:`~dfer.cli.spot`, :mod:`~dfer.cli.train` (``train``, ``evaluate``, ``models``) and
:mod:`~dfer.cli.export`.
"""

from __future__ import annotations

import argparse
import os
import sys

from dfer import __version__
from dfer.cli import curation, data, export, predict, preprocess, spot, train

#: Command groups in the order ``dfer --help`` lists their commands.
GROUPS = (data, preprocess, predict, curation, spot, train, export)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dfer", description="The dfer command: dynamic facial expression "
                                     "recognition — datasets, protocols, models.")
    parser.add_argument("--version", action="version", version=f"dfer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_parser(commands)
    return parser


#: Exit status for a bug in dfer (bad input exits with 2, as argparse does).
INTERNAL_ERROR = 3


def main(argv: list[str] | None = None) -> int:
    """Run one command. Input the user can fix (dfer's :class:`~dfer.errors.InputError` and its kin,
    a file that is missing or in the way, a missing asset) is one line on stderr and status 2;
    any other exception is a bug: a short message, the traceback saved to a file, status 3."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and hasattr(args, "overrides") and all("=" in item and not item.startswith("-") for item in extra):
        args.overrides = [*args.overrides, *extra]  # KEY=VALUE overrides after an option (e.g. --checkpoint X)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    from dfer.assets import AssetMissing
    from dfer.errors import InputError, TrainingError
    from dfer.faces.assets import FaceModelsMissing

    try:
        return args.run(args)
    except (InputError, TrainingError, AssetMissing, FaceModelsMissing, FileNotFoundError, FileExistsError,
            NotADirectoryError, IsADirectoryError, PermissionError) as error:
        print(f"dfer: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dfer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped early (e.g. `| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # noqa: BLE001 — a bug: say so, keep the traceback
        return _report_bug(error)


def _report_bug(error: Exception) -> int:
    import tempfile
    import traceback

    text = "".join(traceback.format_exception(error))
    handle, path = tempfile.mkstemp(prefix="dfer-traceback-", suffix=".txt")
    with os.fdopen(handle, "w") as file:
        file.write(f"dfer {__version__}: {' '.join(sys.argv)}\n\n{text}")
    frame = traceback.extract_tb(error.__traceback__)[-1]
    print(f"dfer: internal error (a bug in dfer, not in your input): {type(error).__name__}: {error}\n"
          f"  at {frame.filename}:{frame.lineno} in {frame.name}; the full traceback is in {path} "
          "— please report it with that file", file=sys.stderr)
    return INTERNAL_ERROR
