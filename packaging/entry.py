"""Frozen entry point: point the app at its bundled resources, then run the CLI."""

import os
import sys

if getattr(sys, "frozen", False):
    os.environ.setdefault("CONNECTION_WIZARD_RESOURCES", os.path.join(sys._MEIPASS, "resources"))  # type: ignore[attr-defined]

from wizard.cli import main

sys.exit(main())
