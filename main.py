"""Inpaint Studio: ``python main.py [PHOTO]`` opens the editor, with PHOTO if given (as ``inpaint-studio`` does)."""
import sys

from app.launcher import main

if __name__ == "__main__":
    sys.exit(main())
