"""``python -m jingwu.cli``: the same command as the installed ``jingwu``."""

import sys

from jingwu.cli import main

sys.exit(main())
