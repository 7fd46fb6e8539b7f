"""NAT traversal for IKEv1 (RFC 3947 and draft-ietf-ipsec-nat-t-ike-02/03), plus the other vendor IDs.

Vendor IDs are MD5 hashes of fixed strings (RFC 3947 §2 and the drafts); NAT-D carries
HASH(CKY-I | CKY-R | IP | port) of the destination first and then of the sender (RFC 3947 §3.2).
After a NAT is found the initiator moves to port 4500 and prefixes every IKE message with the
four-byte non-ESP marker (RFC 3948 §2.2).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from enum import Enum

from wizard.engine.errors import ParseError
from wizard.engine.ike.payloads import Payload
from wizard.engine.ike.v1.constants import PayloadType
from wizard.engine.ike.v1.keys import PrfLike, nat_d_hash

NON_ESP_MARKER = b"\x00\x00\x00\x00"


def _md5(text: bytes) -> bytes:
    return hashlib.md5(text, usedforsecurity=False).digest()


VID_RFC3947 = _md5(b"RFC 3947")
VID_DRAFT_02 = _md5(b"draft-ietf-ipsec-nat-t-ike-02")
VID_DRAFT_02_N = _md5(b"draft-ietf-ipsec-nat-t-ike-02\n")
VID_DRAFT_03 = _md5(b"draft-ietf-ipsec-nat-t-ike-03")
VID_DPD = bytes.fromhex("afcad71368a1f1c96b8696fc77570100")  # RFC 3706 §3.1
VID_XAUTH = bytes.fromhex("09002689dfd6b712")  # draft-beaulieu-ike-xauth-02 §2


class NatTVariant(Enum):
    """Which NAT-T dialect the peer speaks; decides payload numbers and encapsulation values."""

    NONE = "none"
    DRAFT = "draft"
    RFC = "rfc"

    @property
    def nat_d_type(self) -> int:
        return PayloadType.NAT_D_DRAFT if self is NatTVariant.DRAFT else PayloadType.NAT_D

    @property
    def nat_oa_type(self) -> int:
        return PayloadType.NAT_OA_DRAFT if self is NatTVariant.DRAFT else PayloadType.NAT_OA


NAT_T_VIDS = (VID_RFC3947, VID_DRAFT_03, VID_DRAFT_02_N, VID_DRAFT_02)


def variant_from_vids(vids: list[bytes]) -> NatTVariant:
    if VID_RFC3947 in vids:
        return NatTVariant.RFC
    if any(v in vids for v in (VID_DRAFT_03, VID_DRAFT_02_N, VID_DRAFT_02)):
        return NatTVariant.DRAFT
    return NatTVariant.NONE


def packed(address: str) -> bytes:
    return ipaddress.ip_address(address).packed


def nat_d_payloads(
    prf: PrfLike,
    variant: NatTVariant,
    cky_i: bytes,
    cky_r: bytes,
    dest: tuple[str, int],
    source: tuple[str, int],
    *,
    fake_source: bytes | None = None,
) -> list[Payload]:
    """NAT-D for the destination, then for our source (``fake_source`` forces the peer to see a NAT)."""
    d = nat_d_hash(prf, cky_i, cky_r, packed(dest[0]), dest[1])
    s = fake_source or nat_d_hash(prf, cky_i, cky_r, packed(source[0]), source[1])
    return [Payload(variant.nat_d_type, d), Payload(variant.nat_d_type, s)]


@dataclass(frozen=True)
class NatResult:
    local_behind_nat: bool
    peer_behind_nat: bool

    @property
    def detected(self) -> bool:
        return self.local_behind_nat or self.peer_behind_nat


def detect(
    prf: PrfLike,
    cky_i: bytes,
    cky_r: bytes,
    received: list[bytes],
    ours: tuple[str, int],
    peer: tuple[str, int],
) -> NatResult:
    """Compare received NAT-D hashes with our view: the first names us, the rest the sender."""
    if len(received) < 2:
        raise ParseError("NAT-D needs at least two payloads")
    mine = nat_d_hash(prf, cky_i, cky_r, packed(ours[0]), ours[1])
    theirs = nat_d_hash(prf, cky_i, cky_r, packed(peer[0]), peer[1])
    return NatResult(received[0] != mine, theirs not in received[1:])


def frame(data: bytes, local_port: int, nat_t_port: int = 4500) -> bytes:
    """Prefix the non-ESP marker for IKE on the NAT-T port."""
    return NON_ESP_MARKER + data if local_port == nat_t_port else data


def unframe(data: bytes, local_port: int, nat_t_port: int = 4500) -> bytes:
    """Strip the non-ESP marker; raise ParseError for ESP (or keepalives) that reached the IKE engine."""
    if local_port != nat_t_port:
        return data
    if len(data) < 4 or data[:4] != NON_ESP_MARKER:
        raise ParseError("datagram on the NAT-T port without the non-ESP marker (ESP or keepalive)")
    return data[4:]
