"""``python -m dfer.cli``: the ``dfer`` command."""

import sys

from dfer.cli import main

sys.exit(main())
