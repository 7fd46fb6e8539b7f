"""IKEv1 numbers: payload types, attributes, notify codes (RFC 2407, 2408, 2409, 3706, 3947, xauth/mode-cfg drafts)."""

from __future__ import annotations

from enum import IntEnum

DOI_IPSEC = 1
SIT_IDENTITY_ONLY = 1
KEY_IKE = 1  # the only phase 1 transform id (RFC 2407 §4.4.2)


class PayloadType(IntEnum):
    """RFC 2408 §3.1, RFC 3947 §3 (NAT-D/NAT-OA) and their draft numbers, mode-cfg draft (ATTRIBUTE)."""

    NONE = 0
    SA = 1
    PROPOSAL = 2
    TRANSFORM = 3
    KE = 4
    ID = 5
    CERT = 6
    CR = 7
    HASH = 8
    SIG = 9
    NONCE = 10
    NOTIFY = 11
    DELETE = 12
    VENDOR_ID = 13
    ATTRIBUTE = 14
    NAT_D = 20
    NAT_OA = 21
    NAT_D_DRAFT = 130
    NAT_OA_DRAFT = 131
    FRAGMENT = 132


class ProtocolId(IntEnum):
    """RFC 2407 §4.4.1."""

    ISAKMP = 1
    AH = 2
    ESP = 3
    IPCOMP = 4


class Phase1Attr(IntEnum):
    """RFC 2409 Appendix A."""

    ENCRYPTION = 1
    HASH = 2
    AUTH_METHOD = 3
    GROUP = 4
    GROUP_TYPE = 5
    LIFE_TYPE = 11
    LIFE_DURATION = 12
    PRF = 13
    KEY_LENGTH = 14


class AuthMethod(IntEnum):
    """RFC 2409 Appendix A; 65001.. from draft-beaulieu-ike-xauth."""

    PSK = 1
    DSS = 2
    RSA_SIG = 3
    XAUTH_INIT_PSK = 65001
    XAUTH_RESP_PSK = 65002
    XAUTH_INIT_RSA = 65005
    XAUTH_RESP_RSA = 65006


class LifeType(IntEnum):
    SECONDS = 1
    KILOBYTES = 2


class IPsecAttr(IntEnum):
    """RFC 2407 §4.5."""

    LIFE_TYPE = 1
    LIFE_DURATION = 2
    GROUP = 3
    ENCAPSULATION = 4
    AUTH_ALGORITHM = 5
    KEY_LENGTH = 6
    KEY_ROUNDS = 7
    COMPRESS_DICT_SIZE = 8
    COMPRESS_PRIVATE_ALG = 9
    ECN_TUNNEL = 10
    EXT_SEQUENCE = 11


class Encapsulation(IntEnum):
    """RFC 2407 §4.5, RFC 3947 §5 and the values of draft-ietf-ipsec-nat-t-ike-00..03."""

    TUNNEL = 1
    TRANSPORT = 2
    UDP_TUNNEL = 3
    UDP_TRANSPORT = 4
    UDP_TUNNEL_DRAFT = 61443
    UDP_TRANSPORT_DRAFT = 61444


class IdType(IntEnum):
    """RFC 2407 §4.6.2.1."""

    IPV4_ADDR = 1
    FQDN = 2
    USER_FQDN = 3
    IPV4_ADDR_SUBNET = 4
    IPV6_ADDR = 5
    IPV6_ADDR_SUBNET = 6
    IPV4_ADDR_RANGE = 7
    IPV6_ADDR_RANGE = 8
    DER_ASN1_DN = 9
    DER_ASN1_GN = 10
    KEY_ID = 11


class CertEncoding(IntEnum):
    """RFC 2408 §3.9."""

    PKCS7 = 1
    PGP = 2
    DNS_SIGNED_KEY = 3
    X509_SIGNATURE = 4
    X509_KEY_EXCHANGE = 5
    KERBEROS = 6
    CRL = 7
    ARL = 8
    SPKI = 9
    X509_ATTRIBUTE = 10


class NotifyType(IntEnum):
    """RFC 2408 §3.14.1 errors, RFC 2407 §4.6.3 status, RFC 3706 DPD."""

    INVALID_PAYLOAD_TYPE = 1
    DOI_NOT_SUPPORTED = 2
    SITUATION_NOT_SUPPORTED = 3
    INVALID_COOKIE = 4
    INVALID_MAJOR_VERSION = 5
    INVALID_MINOR_VERSION = 6
    INVALID_EXCHANGE_TYPE = 7
    INVALID_FLAGS = 8
    INVALID_MESSAGE_ID = 9
    INVALID_PROTOCOL_ID = 10
    INVALID_SPI = 11
    INVALID_TRANSFORM_ID = 12
    ATTRIBUTES_NOT_SUPPORTED = 13
    NO_PROPOSAL_CHOSEN = 14
    BAD_PROPOSAL_SYNTAX = 15
    PAYLOAD_MALFORMED = 16
    INVALID_KEY_INFORMATION = 17
    INVALID_ID_INFORMATION = 18
    INVALID_CERT_ENCODING = 19
    INVALID_CERTIFICATE = 20
    CERT_TYPE_UNSUPPORTED = 21
    INVALID_CERT_AUTHORITY = 22
    INVALID_HASH_INFORMATION = 23
    AUTHENTICATION_FAILED = 24
    INVALID_SIGNATURE = 25
    ADDRESS_NOTIFICATION = 26
    NOTIFY_SA_LIFETIME = 27
    CERTIFICATE_UNAVAILABLE = 28
    UNSUPPORTED_EXCHANGE_TYPE = 29
    UNEQUAL_PAYLOAD_LENGTHS = 30
    CONNECTED = 16384
    RESPONDER_LIFETIME = 24576
    REPLAY_STATUS = 24577
    INITIAL_CONTACT = 24578
    R_U_THERE = 36136
    R_U_THERE_ACK = 36137


ERROR_NOTIFY_MAX = 16383


class CfgType(IntEnum):
    """Mode config message types (draft-dukes-ike-mode-cfg §3.2)."""

    REQUEST = 1
    REPLY = 2
    SET = 3
    ACK = 4


class CfgAttr(IntEnum):
    """Mode config and XAUTH attribute types (draft-dukes-ike-mode-cfg §3.3, draft-beaulieu-ike-xauth §6)."""

    INTERNAL_IP4_ADDRESS = 1
    INTERNAL_IP4_NETMASK = 2
    INTERNAL_IP4_DNS = 3
    INTERNAL_IP4_NBNS = 4
    INTERNAL_ADDRESS_EXPIRY = 5
    INTERNAL_IP4_DHCP = 6
    APPLICATION_VERSION = 7
    INTERNAL_IP6_ADDRESS = 8
    INTERNAL_IP6_NETMASK = 9
    INTERNAL_IP6_DNS = 10
    INTERNAL_IP6_NBNS = 11
    INTERNAL_IP6_DHCP = 12
    INTERNAL_IP4_SUBNET = 13
    SUPPORTED_ATTRIBUTES = 14
    INTERNAL_IP6_SUBNET = 15
    XAUTH_TYPE = 16520
    XAUTH_USER_NAME = 16521
    XAUTH_USER_PASSWORD = 16522
    XAUTH_PASSCODE = 16523
    XAUTH_MESSAGE = 16524
    XAUTH_CHALLENGE = 16525
    XAUTH_DOMAIN = 16526
    XAUTH_STATUS = 16527
    XAUTH_NEXT_PIN = 16528
    XAUTH_ANSWER = 16529
    UNITY_BANNER = 28672
    UNITY_SPLIT_INCLUDE = 28676
    UNITY_DEF_DOMAIN = 28674
