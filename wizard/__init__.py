"""Connection Wizard: a desktop VPN client for the protocols a Windows network speaks."""

__version__ = "0.1.0"
