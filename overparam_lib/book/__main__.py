"""``python -m overparam_lib.book``: the same as the ``overparam`` command."""

import sys

from overparam_lib.book.cli import main

sys.exit(main())
