"""Connection Wizard."""
