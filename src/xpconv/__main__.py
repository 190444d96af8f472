"""``python -m xpconv verify|compare|bench``."""

import sys

from .cli import main

sys.exit(main())
