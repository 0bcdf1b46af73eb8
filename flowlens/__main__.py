"""``python -m flowlens`` is the ``flowlens`` command."""

import sys

from flowlens.cli import main

sys.exit(main())
