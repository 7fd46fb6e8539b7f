"""Known answers through the PPP authentication layer: the RFC 2759 and RFC 3079 examples.

The crypto functions have their own vector tests; these check that CHAP and EAP put the right
values in the right places of their packets and derive MPPE keys from the right exchange.
"""

from __future__ import annotations

from collections.abc import Callable

from wizard.engine.ppp.auth.chap import CHALLENGE, RESPONSE, SUCCESS, ChapClient, ChapServer, parse_value
from wizard.engine.ppp.auth.eap import (
    MS_CHALLENGE,
    MS_RESPONSE,
    MS_SUCCESS,
    REQUEST,
    TYPE_MSCHAPV2,
    EapClient,
    build_eap,
    build_ms,
    parse_eap,
    parse_ms,
)
from wizard.engine.ppp.frame import CPPacket, build_cp_packet, parse_cp_packet
from wizard.engine.ppp.fsm import Timers

# RFC 2759 section 9.2 "Hash Example".
USER = "User"
PASSWORD = "clientPass"
AUTHENTICATOR_CHALLENGE = bytes.fromhex("5B5D7C7D7B3F2F3E3C2C602132262628")
PEER_CHALLENGE = bytes.fromhex("21402324255E262A28295F2B3A337C7E")
NT_RESPONSE = bytes.fromhex("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF")
AUTHENTICATOR_RESPONSE = "S=407A5589115FD0D6209F510FE9C04566932CDA56"

# RFC 2759 section 4: the 49-octet Response value (Peer-Challenge, 8 reserved, NT-Response, Flags).
RESPONSE_VALUE = PEER_CHALLENGE + bytes(8) + NT_RESPONSE + b"\x00"

# RFC 3079 section 3.5.3: the server's 128-bit send start key for that exchange (the client's
# receive key); section 3.5.1 gives the same first 8 octets for 40-bit keys.
SERVER_SEND_START_KEY_128 = bytes.fromhex("8B7CDC149B993A1BA118CB153F56DCCB")
SERVER_SEND_START_KEY_40 = bytes.fromhex("8B7CDC149B993A1B")


def _fixed(*chunks: bytes) -> Callable[[int], bytes]:
    queue = list(chunks)

    def take(n: int) -> bytes:
        chunk = queue.pop(0)
        assert len(chunk) == n
        return chunk

    return take


def _collect() -> tuple[list[bytes], Callable[[int, bytes], None]]:
    sent: list[bytes] = []
    return sent, lambda proto, data: sent.append(data)


def test_mschapv2_client_response_and_authenticator_check() -> None:
    sent, send = _collect()
    client = ChapClient(send, Timers(), "mschapv2", USER, PASSWORD, _fixed(PEER_CHALLENGE))
    client.start(0.0)
    client.receive(build_cp_packet(CHALLENGE, 7, bytes([16]) + AUTHENTICATOR_CHALLENGE + b"server"), 0.0)
    response = parse_cp_packet(sent[-1])
    assert (response.code, response.identifier) == (RESPONSE, 7)
    assert parse_value(response.data) == (RESPONSE_VALUE, USER.encode())
    client.receive(build_cp_packet(SUCCESS, 7, (AUTHENTICATOR_RESPONSE + " M=welcome").encode()), 0.1)
    assert client.succeeded and client.mppe_material is not None
    assert client.mppe_material.keys(is_server=False, bits=128)[1] == SERVER_SEND_START_KEY_128
    assert client.mppe_material.keys(is_server=False, bits=40)[1] == SERVER_SEND_START_KEY_40


def test_mschapv2_server_verifies_and_proves_itself() -> None:
    sent, send = _collect()
    server = ChapServer(
        send, Timers(), "mschapv2", {USER: PASSWORD}, "gw", _fixed(b"\x07", AUTHENTICATOR_CHALLENGE)
    )
    server.start(0.0)
    challenge = parse_cp_packet(sent[-1])
    assert parse_value(challenge.data) == (AUTHENTICATOR_CHALLENGE, b"gw")
    server.receive(build_cp_packet(RESPONSE, 7, bytes([49]) + RESPONSE_VALUE + USER.encode()), 0.1)
    assert parse_cp_packet(sent[-1]) == CPPacket(SUCCESS, 7, (AUTHENTICATOR_RESPONSE + " M=Access granted").encode())
    assert server.succeeded and server.mppe_material is not None
    assert server.mppe_material.keys(is_server=True, bits=128)[0] == SERVER_SEND_START_KEY_128


def test_eap_mschapv2_carries_the_same_values() -> None:
    sent, send = _collect()
    client = EapClient(send, Timers(), USER, PASSWORD, ("mschapv2",), _fixed(PEER_CHALLENGE))
    client.start(0.0)
    challenge = build_ms(MS_CHALLENGE, 9, bytes([16]) + AUTHENTICATOR_CHALLENGE + b"gw")
    client.receive(build_eap(REQUEST, 9, TYPE_MSCHAPV2, challenge), 0.0)
    code, ident, eap_type, data = parse_eap(sent[-1])
    assert (code, ident, eap_type) == (2, 9, TYPE_MSCHAPV2)
    assert parse_ms(data) == (MS_RESPONSE, 9, bytes([49]) + RESPONSE_VALUE + USER.encode())
    success = build_ms(MS_SUCCESS, 9, AUTHENTICATOR_RESPONSE.encode() + b" M=ok")
    client.receive(build_eap(REQUEST, 10, TYPE_MSCHAPV2, success), 0.1)
    assert parse_eap(sent[-1]) == (2, 10, TYPE_MSCHAPV2, bytes([MS_SUCCESS]))
    client.receive(build_eap(3, 10), 0.2)
    assert client.succeeded and client.mppe_material is not None
    assert client.mppe_material.keys(is_server=False, bits=128)[1] == SERVER_SEND_START_KEY_128
