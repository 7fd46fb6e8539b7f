"""Gateway probe: which VPN protocols a gateway speaks and which IKE suites it accepts, without credentials.

``await probe(host)`` returns a :class:`ProbeReport` (the GUI's "Check this gateway" button);
``connection-wizard probe HOST`` prints it as a table with a suggested crypto policy.

The names load lazily, so ``wizard.cli`` can register the subcommand without importing the engines.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "IKEV1_WALK": "wizard.probe.ike",
    "IKEV2_WALK": "wizard.probe.ike",
    "ALL_PROTOCOLS": "wizard.probe.report",
    "CryptoSuggestion": "wizard.probe.report",
    "ProbeProtocol": "wizard.probe.report",
    "ProbeReport": "wizard.probe.report",
    "ProposalResult": "wizard.probe.report",
    "ProposalStatus": "wizard.probe.report",
    "ProtocolResult": "wizard.probe.report",
    "ProtocolStatus": "wizard.probe.report",
    "format_report": "wizard.probe.report",
    "suggest": "wizard.probe.report",
    "ProbeError": "wizard.probe.run",
    "probe": "wizard.probe.run",
    "probe_blocking": "wizard.probe.run",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'wizard.probe' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
