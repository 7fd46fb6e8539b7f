"""The New Connection flow: a small step graph the Qt pages (or a test) walk through.

Like Electrum's wizard, the flow owns the answers and the rules; views only show fields and call
``set``/``errors``/``next_step``. Secrets are kept apart from the answers so a draft can be logged
or shown in a summary without leaking them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wizard.profile_flags import default_secrets
from wizard.profiles.codec import profile_from_dict
from wizard.profiles.errors import ValidationError
from wizard.profiles.model import SCHEMA_VERSION, AuthMethod, Profile, Protocol, SecretKind, check_host, default_mppe

STEPS = ("type", "gateway", "signin", "summary")

#: What the type page offers, in order, with the one-line explanation shown under each choice.
PROTOCOL_CHOICES: tuple[tuple[Protocol, str], ...] = (
    (Protocol.L2TP_IPSEC, "The Windows default: L2TP protected by IPsec, with a pre-shared key."),
    (Protocol.IKEV1_XAUTH, "IPsec tunnel with user name and password (Cisco-style remote access)."),
    (Protocol.IPSEC_TRANSPORT, "Host-to-host IPsec protecting all traffic to one server."),
    (Protocol.L2TP, "L2TP without IPsec: only safe inside an already trusted network."),
    (Protocol.PPTP, "Insecure legacy protocol: only if your gateway offers nothing else."),
)


@dataclass
class NewConnectionFlow:
    """Answers of a New Connection wizard run; ``profile()`` turns them into a validated profile."""

    answers: dict[str, Any] = field(
        default_factory=lambda: {
            "protocol": Protocol.L2TP_IPSEC.value,
            "name": "",
            "host": "",
            "username": "",
            "auth_method": AuthMethod.PASSWORD.value,
            "save_password": True,
        }
    )
    secrets: dict[SecretKind, str] = field(default_factory=dict, repr=False)

    def set(self, key: str, value: Any) -> None:
        self.answers[key] = value

    @property
    def protocol(self) -> Protocol:
        return Protocol(self.answers["protocol"])

    def needed_secrets(self) -> list[SecretKind]:
        return [SecretKind(s) for s in default_secrets(self.protocol.value, self.answers["auth_method"])]

    def errors(self, step: str) -> dict[str, str]:
        """Field -> plain-language problem, for the fields shown on ``step``."""
        problems: dict[str, str] = {}
        a = self.answers
        if step == "gateway":
            name = a["name"]
            if not name.strip():
                problems["name"] = "Give the connection a name, e.g. “Office”."
            elif name != name.strip() or len(name) > 100:
                problems["name"] = "Use 1 to 100 characters without spaces at either end."
            if not a["host"]:
                problems["host"] = "Enter the gateway's host name or IP address."
            else:
                try:
                    check_host(a["host"], "host")
                except ValidationError as exc:
                    problems["host"] = f"{exc.problem[0].upper()}{exc.problem[1:]}; {exc.allowed}."
        elif step == "signin":
            if not a["username"].strip():
                problems["username"] = "Enter the user name your administrator gave you."
            for kind in self.needed_secrets():
                if not self.secrets.get(kind):
                    problems[kind.value] = f"Enter the {_SECRET_LABELS[kind]}."
        return problems

    def next_step(self, step: str) -> str | None:
        index = STEPS.index(step)
        return STEPS[index + 1] if index + 1 < len(STEPS) else None

    def profile(self) -> Profile:
        a = self.answers
        data: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "name": a["name"],
            "protocol": a["protocol"],
            "gateways": [{"host": a["host"]}],
            "auth": {
                "method": a["auth_method"],
                "username": a["username"],
                "secrets": [k.value for k in self.needed_secrets()],
            },
            "ppp": {"mppe": default_mppe(self.protocol).value},
            "credential_policy": "save" if a["save_password"] else "username_only",
        }
        return profile_from_dict(data)


_SECRET_LABELS = {
    SecretKind.PASSWORD: "password",
    SecretKind.PSK: "pre-shared key",
    SecretKind.KEY_PASSPHRASE: "private key passphrase",
}


def secret_label(kind: SecretKind) -> str:
    return _SECRET_LABELS[kind]
