"""``python -m inpaint_core COMMAND ...``: fill, convert, train, eval, bench."""
from __future__ import annotations

import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())
