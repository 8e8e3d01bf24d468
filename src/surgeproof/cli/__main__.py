"""``python -m surgeproof.cli``: the ``surgeproof`` command (how the run starts its workers)."""

import sys

from surgeproof.cli import main

sys.exit(main())
