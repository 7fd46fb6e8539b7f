"""Client side of the helper's socket (used by the CLI and the GUI)."""

from wizard.client.client import DEFAULT_SOCKET, HelperClient, HelperError, HelperUnavailable

__all__ = ["DEFAULT_SOCKET", "HelperClient", "HelperError", "HelperUnavailable"]
