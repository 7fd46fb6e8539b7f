"""``python -m wizard`` runs the CLI."""

import sys

from wizard.cli import main

sys.exit(main())
