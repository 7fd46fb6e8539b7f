"""A throwaway PKI for the gateway's IKEv2 tests: a CA, the gateway's certificate (RSA, naming its
address), a client certificate (ECDSA) and one from a CA nobody trusts, written as PEM files."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class PkiFiles:
    ca: Path
    gateway_cert: Path
    gateway_key: Path
    client_cert: Path
    client_key: Path
    stranger_cert: Path  # a client certificate from a CA the gateway does not trust
    stranger_key: Path
    client_subject: str


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cw-test"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def certificate(
    subject: x509.Name,
    key: Key,
    issuer: x509.Name,
    issuer_key: Key,
    *,
    ca: bool = False,
    sans: tuple[x509.GeneralName, ...] = (),
    days: tuple[int, int] = (-1, 30),
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=days[0]))
        .not_valid_after(now + dt.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: Key, password: bytes | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def write_pki(directory: Path, gateway_address: str) -> PkiFiles:
    """CA, gateway (SAN IP ``gateway_address`` and DNS gateway.test) and client certificates in ``directory``."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name("cw test CA")
    ca = certificate(ca_name, ca_key, ca_name, ca_key, ca=True)
    gw_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sans = (x509.IPAddress(ipaddress.ip_address(gateway_address)), x509.DNSName("gateway.test"))
    gw = certificate(_name("gateway.test"), gw_key, ca_name, ca_key, sans=sans)
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = certificate(_name("client.test"), client_key, ca_name, ca_key, sans=(x509.DNSName("client.test"),))
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_name = _name("other CA")
    stranger_key = ec.generate_private_key(ec.SECP256R1())
    stranger = certificate(_name("stranger.test"), stranger_key, other_name, other_key)
    files = PkiFiles(
        ca=directory / "ca.pem",
        gateway_cert=directory / "gateway.pem",
        gateway_key=directory / "gateway.key",
        client_cert=directory / "client.pem",
        client_key=directory / "client.key",
        stranger_cert=directory / "stranger.pem",
        stranger_key=directory / "stranger.key",
        client_subject=client.subject.rfc4514_string(),
    )
    files.ca.write_bytes(pem(ca))
    files.gateway_cert.write_bytes(pem(gw))
    files.gateway_key.write_bytes(key_pem(gw_key))
    files.client_cert.write_bytes(pem(client))
    files.client_key.write_bytes(key_pem(client_key))
    files.stranger_cert.write_bytes(pem(stranger))
    files.stranger_key.write_bytes(key_pem(stranger_key))
    for path in (files.gateway_key, files.client_key, files.stranger_key):
        path.chmod(0o600)
    return files
