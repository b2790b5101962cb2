"""``python -m zigzag.cli``."""

import sys

from . import main

sys.exit(main())
