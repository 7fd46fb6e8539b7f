"""Plain-language reasons for IKE failures: what we offered, what the peer chose or rejected, and the fix.

The UI shows these sentences as they are, so each names the likely cause (wrong pre-shared key, identity
mismatch, untrusted certificate, crypto policy, NAT) rather than only a notify code.
"""

from __future__ import annotations

from collections.abc import Sequence

from wizard.engine.ike.v1.constants import NotifyType


def notify_name(code: int) -> str:
    try:
        return NotifyType(code).name
    except ValueError:
        return f"notify {code}"


def _join(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "nothing"


def no_proposal_initiator(
    what: str,
    offered: Sequence[str],
    *,
    peer: str = "the gateway",
    probe_choice: str | None = None,
    probe_choice_legacy: bool = False,
    probed: bool = False,
    allow_legacy: bool = False,
    list_name: str = "IKE proposals",
) -> str:
    """NO_PROPOSAL_CHOSEN as the initiator; ``probe_choice`` is what the peer picked from a wider offer."""
    text = f"NO_PROPOSAL_CHOSEN: we offered {_join(offered)} for {what}; "
    if probe_choice is not None:
        if probe_choice_legacy and not allow_legacy:
            return text + (
                f"{peer} accepts none of them, only {probe_choice}, which this profile's crypto policy "
                "forbids; enable legacy algorithms to connect"
            )
        return text + (
            f"{peer} accepts none of them, only {probe_choice}; add it to this profile's {list_name} to connect"
        )
    if probed:
        return text + f"{peer} accepts none of them, nor any common legacy suite; ask its administrator which algorithms it allows"
    return text + f"{peer} accepts none of them; ask its administrator which algorithms it allows"


def no_proposal_responder(what: str, offered: Sequence[str], ours: Sequence[str], *, peer: str = "the client") -> str:
    return f"NO_PROPOSAL_CHOSEN: {peer} offered {_join(offered)} for {what}; this side accepts only {_join(ours)}"


def wrong_psk_sent(peer: str = "the gateway") -> str:
    return f"{peer} could not decrypt our identity: the pre-shared key is probably wrong"


def wrong_psk_received(peer: str = "the gateway") -> str:
    return f"the reply from {peer} could not be decrypted or its hash did not match: the pre-shared key is probably wrong"


def id_mismatch(peer: str, got: str, expected: str) -> str:
    return f"identity mismatch: {peer} identified itself as {got}, but the profile expects {expected}; fix the remote identity"


def no_reply(peer: str, stage: str, nat_hint: bool) -> str:
    text = f"no reply from {peer} during {stage}"
    if nat_hint:
        text += "; a NAT or firewall on the path may be dropping UDP port 4500"
    else:
        text += "; check the address and that UDP port 500 is not blocked"
    return text


def peer_notify(peer: str, code: int, stage: str) -> str:
    """A notify error the peer sent, in words."""
    name = notify_name(code)
    hints: dict[int, str] = {
        NotifyType.NO_PROPOSAL_CHOSEN: "it accepted none of the algorithms we offered",
        NotifyType.INVALID_ID_INFORMATION: "it rejected our identity or traffic selectors; check the local identity and networks",
        NotifyType.AUTHENTICATION_FAILED: "authentication failed; check the credentials",
        NotifyType.INVALID_HASH_INFORMATION: "our hash did not verify: the pre-shared key is probably wrong",
        NotifyType.PAYLOAD_MALFORMED: "it could not parse our message: the pre-shared key is probably wrong",
        NotifyType.INVALID_PAYLOAD_TYPE: "it could not parse our message: the pre-shared key is probably wrong",
        NotifyType.INVALID_CERTIFICATE: "it did not accept our certificate",
        NotifyType.INVALID_CERT_AUTHORITY: "it does not trust the CA that issued our certificate",
        NotifyType.INVALID_SIGNATURE: "our signature did not verify; check the certificate and private key",
        NotifyType.CERT_TYPE_UNSUPPORTED: "it does not support our certificate type",
        NotifyType.INVALID_KEY_INFORMATION: "it rejected our key exchange",
    }
    hint = hints.get(code)
    return f"{peer} sent {name} during {stage}" + (f": {hint}" if hint else "")


def untrusted_certificate(peer: str, detail: str) -> str:
    return f"the certificate of {peer} is not trusted: {detail}"
