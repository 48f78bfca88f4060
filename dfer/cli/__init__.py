"""The ``dfer`` command: a thin layer over the library. ``dfer COMMAND --help`` documents each.

One module per command group, each with ``add_parser(commands)`` and ``run(args)``:
:mod:`~dfer.cli.data` (``synth``, ``data``), :mod:`~dfer.cli.preprocess`, :mod:`~dfer.cli.predict`
(``predict``, ``assets``, ``demo``), :mod:`~dfer.cli.curation` (``annotate``, ``build``),
:mod:`~dfer.cli.spot` and :mod:`~dfer.cli.train` (``train``, ``evaluate``, ``models``).
"""

from __future__ import annotations

import argparse
import os
import sys

from dfer import __version__
from dfer.cli import curation, data, predict, preprocess, spot, train

#: Command groups in the order ``dfer --help`` lists their commands.
GROUPS = (data, preprocess, predict, curation, spot, train)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dfer", description="The dfer command: dynamic facial expression "
                                     "recognition — datasets, protocols, models.")
    parser.add_argument("--version", action="version", version=f"dfer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from dfer.assets import AssetMissing
    from dfer.errors import DatasetError, TrainingError

    try:
        return args.run(args)
    except (DatasetError, ValueError, FileNotFoundError, TrainingError, AssetMissing) as error:
        print(f"dfer: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dfer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped early (e.g. `| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
