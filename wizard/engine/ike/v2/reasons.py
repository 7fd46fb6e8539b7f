"""Plain-language failure sentences for IKEv2 (the shared ones live in :mod:`wizard.engine.ike.failures`)."""

from __future__ import annotations

from wizard.engine.ike.v2.constants import NotifyType, notify_name

_HINTS: dict[int, str] = {
    NotifyType.NO_PROPOSAL_CHOSEN: "it accepted none of the algorithms we offered",
    NotifyType.INVALID_KE_PAYLOAD: "it wants a different Diffie-Hellman group",
    NotifyType.AUTHENTICATION_FAILED: "authentication failed; check the credentials",
    NotifyType.TS_UNACCEPTABLE: "it refused the networks (traffic selectors) we asked to tunnel",
    NotifyType.INVALID_SELECTORS: "it refused the networks (traffic selectors) we asked to tunnel",
    NotifyType.INTERNAL_ADDRESS_FAILURE: "it could not assign us a virtual address (its address pool may be exhausted)",
    NotifyType.FAILED_CP_REQUIRED: "it requires us to request a virtual address",
    NotifyType.SINGLE_PAIR_REQUIRED: "it only accepts one host-to-host pair of traffic selectors",
    NotifyType.NO_ADDITIONAL_SAS: "it accepts no more IPsec SAs on this connection",
    NotifyType.INVALID_SYNTAX: "it could not parse our message",
    NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD: "it does not support a payload we marked critical",
    NotifyType.TEMPORARY_FAILURE: "it is busy (temporary failure)",
    NotifyType.CHILD_SA_NOT_FOUND: "it does not know the IPsec SA",
    NotifyType.INVALID_MAJOR_VERSION: "it does not speak IKEv2",
}


def peer_notify(peer: str, code: int, stage: str) -> str:
    hint = _HINTS.get(code)
    return f"{peer} sent {notify_name(code)} during {stage}" + (f": {hint}" if hint else "")


def auth_rejected(peer: str, method: str) -> str:
    """The peer answered our AUTH with AUTHENTICATION_FAILED."""
    if method == "psk":
        return (f"AUTHENTICATION_FAILED: {peer} rejected our authentication; the pre-shared key is probably wrong "
                "(or the gateway expects another identity or method)")  # fmt: skip
    if method == "cert":
        return (f"AUTHENTICATION_FAILED: {peer} rejected our certificate; check that it was issued by a CA the gateway "
                "trusts, has not expired, and names the identity we send")  # fmt: skip
    return (f"AUTHENTICATION_FAILED: {peer} rejected the sign-in; check the user name and password "
            "(or the gateway does not allow EAP for this user)")  # fmt: skip


def peer_psk_wrong(peer: str) -> str:
    return f"the AUTH payload from {peer} did not verify: the pre-shared key is probably wrong"


def ts_unacceptable(peer: str, local: str, remote: str) -> str:
    return (f"TS_UNACCEPTABLE: {peer} refused to tunnel the networks we asked for (ours: {local}; remote: {remote}); "
            "check the profile's split-tunnel networks or ask the administrator which are allowed")  # fmt: skip


def no_reply(peer: str, stage: str, floated: bool) -> str:
    text = f"no reply from {peer} during {stage}"
    if floated:
        return text + "; a NAT or firewall on the path may be dropping UDP port 4500"
    return text + "; check the address and that UDP ports 500 and 4500 are not blocked"
