"""The ``lindyn`` command."""

import sys

from lindyn.cli._app import app as app
from lindyn.cli._app import main as _main


def main() -> None:
    """Console-script entry point."""
    sys.exit(_main())
