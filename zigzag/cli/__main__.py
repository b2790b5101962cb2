"""``python -m zigzag.cli``."""

from . import entry

if __name__ == "__main__":  # not when a spawned process re-imports the main module
    entry()
