"""``python -m overparam_lib``: the same as the ``overparam`` command."""

import sys

from overparam_lib.cli import main

sys.exit(main())
