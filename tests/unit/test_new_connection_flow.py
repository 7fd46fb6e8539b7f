"""The New Connection flow without Qt: steps, per-field errors, the resulting profile, editing."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from wizard.gui.flow import i18n
from wizard.gui.flow.new_connection import (
    STEPS,
    MachineAuth,
    NewConnectionFlow,
    legacy_risks,
    protocol_choices,
)
from wizard.profiles.model import (
    AuthMethod,
    CredentialPolicy,
    Gateway,
    MppePolicy,
    Protocol,
    SecretKind,
    TunnelMode,
)


def make_certificate(path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "alice")])
    import datetime

    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def filled(protocol: Protocol = Protocol.L2TP_IPSEC) -> NewConnectionFlow:
    flow = NewConnectionFlow()
    flow.choose_protocol(protocol)
    flow.answers.update(name="Office", host="vpn.example.com", username="alice")
    for kind in flow.needed_secrets():
        flow.secrets[kind] = f"{kind.value}-value"
    return flow


def test_steps_run_in_order_both_ways() -> None:
    flow = NewConnectionFlow()
    step: str | None = STEPS[0]
    seen = []
    while step is not None:
        seen.append(step)
        step = flow.next_step(step)
    assert seen == ["type", "gateway", "signin", "options", "summary"]
    assert flow.previous_step("options") == "signin" and flow.previous_step("type") is None


def test_type_list_has_every_protocol_and_pptp_says_insecure() -> None:
    choices = dict(protocol_choices())
    assert set(choices) == {
        Protocol.L2TP_IPSEC,
        Protocol.IKEV1_XAUTH,
        Protocol.IPSEC_TRANSPORT,
        Protocol.L2TP,
        Protocol.PPTP,
    }
    assert "Insecure" in choices[Protocol.PPTP]
    later = [p for p, _ in protocol_choices([Protocol.IKEV2, Protocol.AUTOMATIC])]
    assert later[:2] == [Protocol.AUTOMATIC, Protocol.IKEV2]


def test_gateway_errors_name_each_field() -> None:
    flow = NewConnectionFlow(taken_names={"Home"})
    assert set(flow.errors("gateway")) == {"name", "host"}
    flow.set("name", " Office")
    flow.set("host", "vpn example")
    errors = flow.errors("gateway")
    assert "spaces" in errors["name"] and "not a host name" in errors["host"]
    flow.set("name", "home")
    assert "already have" in flow.errors("gateway")["name"]
    flow.set("name", "Office")
    flow.set("host", "vpn.example.com")
    assert flow.errors("gateway") == {}


def test_unknown_answer_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        NewConnectionFlow().set("pasword", "x")


@pytest.mark.parametrize(
    ("protocol", "secrets"),
    [
        (Protocol.L2TP_IPSEC, {SecretKind.PASSWORD, SecretKind.PSK}),
        (Protocol.IKEV1_XAUTH, {SecretKind.PASSWORD, SecretKind.PSK}),
        (Protocol.IPSEC_TRANSPORT, {SecretKind.PSK}),
        (Protocol.L2TP, {SecretKind.PASSWORD}),
        (Protocol.PPTP, {SecretKind.PASSWORD}),
    ],
)
def test_signin_asks_for_the_secrets_the_protocol_needs(protocol: Protocol, secrets: set[SecretKind]) -> None:
    flow = NewConnectionFlow()
    flow.choose_protocol(protocol)
    assert set(flow.needed_secrets()) == secrets
    expected = {s.value for s in secrets} | ({"username"} if protocol is not Protocol.IPSEC_TRANSPORT else set())
    assert set(flow.errors("signin")) == expected


def test_secrets_are_optional_when_they_will_not_be_saved() -> None:
    flow = NewConnectionFlow()
    flow.answers.update(username="alice", credential_policy="username_only")
    assert flow.errors("signin") == {}
    flow.set("credential_policy", "never")
    flow.set("username", "")
    assert flow.errors("signin") == {}
    flow.set("credential_policy", "save")
    flow.keyring_available = False  # nothing can be saved, so nothing is required now
    assert flow.credential_policy is CredentialPolicy.USERNAME_ONLY
    assert set(flow.errors("signin")) == {"username"}


def test_never_policy_stores_no_user_name() -> None:
    flow = filled(Protocol.L2TP)
    flow.set("credential_policy", "never")
    profile = flow.profile()
    assert profile.credential_policy is CredentialPolicy.NEVER and profile.auth.username == ""
    assert flow.secrets_to_save(profile) == {}


def test_certificate_sign_in(tmp_path: Path) -> None:
    flow = filled(Protocol.IKEV1_XAUTH)
    flow.set("machine_auth", MachineAuth.CERTIFICATE.value)
    assert flow.errors("signin")["certificate_file"].startswith("Choose the certificate")
    flow.set("certificate_file", "relative.pem")
    assert "full path" in flow.errors("signin")["certificate_file"]
    flow.set("certificate_file", str(tmp_path / "missing.pem"))
    assert "no file" in flow.errors("signin")["certificate_file"]
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    flow.set("certificate_file", str(junk))
    assert "does not hold a certificate" in flow.errors("signin")["certificate_file"]
    flow.set("certificate_file", str(make_certificate(tmp_path / "alice.pem")))
    flow.set("key_has_passphrase", True)
    assert set(flow.errors("signin")) == {"key_passphrase"}
    flow.secrets[SecretKind.KEY_PASSPHRASE] = "pp"
    assert flow.errors("signin") == {}
    profile = flow.profile()
    assert profile.auth.method is AuthMethod.CERTIFICATE
    assert set(profile.auth.secrets) == {SecretKind.PASSWORD, SecretKind.KEY_PASSPHRASE}
    assert profile.auth.certificate_file.endswith("alice.pem")


def test_options_validate_routes_dns_and_proposals() -> None:
    flow = filled()
    assert flow.errors("options") == {}
    flow.answers.update(tunnel="split", use_pushed_routes=False)
    assert "split tunnel needs" in flow.errors("options")["routes"]
    flow.set("routes", "10.0.0.0/8, 300.1.1.0/24")
    assert "300.1.1.0/24" in flow.errors("options")["routes"]
    flow.set("routes", "10.0.0.0/8 192.168.5.0/24")
    flow.set("dns_servers", "10.0.0.53, dns.example")
    assert "dns.example" in flow.errors("options")["dns_servers"]
    flow.set("dns_servers", "10.0.0.53")
    flow.set("split_domains", "corp.example.com, bad domain!")
    assert "domain!" in flow.errors("options")["split_domains"]
    flow.set("split_domains", "corp.example.com")
    flow.set("ike_proposals", "3des-sha1-modp1024")
    problem = flow.errors("options")["ike_proposals"]
    assert "3des" in problem and "Allow legacy algorithms" in problem
    flow.set("allow_legacy", True)
    assert flow.errors("options") == {}
    flow.set("esp_proposals", "aes256-nothing")
    assert "Unknown algorithm" in flow.errors("options")["esp_proposals"]
    flow.set("esp_proposals", "aes256gcm16")
    flow.set("reconnect_attempts", 5000)
    assert "1000" in flow.errors("options")["reconnect_attempts"]
    flow.set("reconnect_attempts", 3)
    profile = flow.profile()
    assert profile.routing.mode is TunnelMode.SPLIT and profile.routing.routes == ("10.0.0.0/8", "192.168.5.0/24")
    assert profile.dns.servers == ("10.0.0.53",) and profile.dns.split_domains == ("corp.example.com",)
    assert profile.crypto.allow_legacy and profile.crypto.ike_proposals == ("3des-sha1-modp1024",)
    assert profile.reconnect.max_attempts == 3
    assert any("3DES" in w for w in profile.weaknesses())


def test_ppp_types_ignore_ipsec_proposals_and_keep_mppe_choice() -> None:
    flow = filled(Protocol.PPTP)
    flow.set("ike_proposals", "garbage")
    assert flow.errors("options") == {}
    assert flow.profile().ppp.mppe is MppePolicy.REQUIRE
    flow.set("mppe", "allow")
    assert flow.profile().ppp.mppe is MppePolicy.ALLOW
    flow.choose_protocol(Protocol.L2TP)
    assert flow.answers["mppe"] == "" and flow.profile().ppp.mppe is MppePolicy.ALLOW


def test_legacy_switch_names_the_risks() -> None:
    text = legacy_risks()
    for word in ("DES", "3DES", "MD5", "1024", "Sweet32", "Logjam"):
        assert word in text


def test_phonebook_pick_fills_host_name_and_fallback_gateways() -> None:
    flow = filled()
    flow.answers["name"] = ""
    flow.phonebook = [Gateway("vpn-a.example.com", "Berlin", "EU"), Gateway("vpn-b.example.com", "Boston", "US")]
    flow.pick_gateway(1)
    assert flow.answers["host"] == "vpn-b.example.com" and flow.answers["name"] == "Boston"
    profile = flow.profile()
    assert [g.host for g in profile.gateways] == ["vpn-b.example.com", "vpn-a.example.com"]
    flow.set("use_phonebook", False)
    assert [g.host for g in flow.profile().gateways] == ["vpn-b.example.com"]


def test_profile_from_answers_keeps_secrets_out() -> None:
    flow = filled(Protocol.PPTP)
    flow.answers.update(name="Old VPN", host="198.51.100.4", username="carol", credential_policy="username_only")
    flow.secrets[SecretKind.PASSWORD] = "s3cret-value"
    profile = flow.profile()
    assert profile.protocol is Protocol.PPTP and profile.ppp.mppe is MppePolicy.REQUIRE
    assert profile.credential_policy is CredentialPolicy.USERNAME_ONLY
    assert "s3cret-value" not in repr(profile) and "s3cret-value" not in repr(flow)
    assert flow.secrets_to_save(profile) == {}


def test_summary_step_reports_a_profile_the_model_refuses() -> None:
    flow = filled()
    assert flow.errors("summary") == {}
    flow.answers["name"] = ""
    assert "name" in flow.errors("summary")["profile"]


def test_editing_round_trips_and_keeps_the_id() -> None:
    flow = filled(Protocol.IKEV1_XAUTH)
    flow.answers.update(
        tunnel="split", routes="10.1.0.0/16", kill_switch=True, allow_lan=False, dns_servers="10.1.0.53"
    )
    original = flow.profile()
    edit = NewConnectionFlow.from_profile(original, saved=[SecretKind.PASSWORD, SecretKind.PSK])
    assert edit.all_errors() == {}  # saved secrets need not be typed again
    assert edit.profile() == original
    edit.set("name", "Office 2")
    changed = edit.profile()
    assert changed.id == original.id and changed.name == "Office 2" and changed.kill_switch.enabled


def test_flow_messages_go_through_the_translation_hook() -> None:
    i18n.install(lambda context, text: text.replace("Enter", "Gib"))
    try:
        assert NewConnectionFlow().errors("gateway")["host"].startswith("Gib")
    finally:
        i18n.install(None)
    assert NewConnectionFlow().errors("gateway")["host"].startswith("Enter")


def test_probe_result_prefills_type_and_crypto_policy() -> None:
    from wizard.probe.report import CryptoSuggestion, ProbeProtocol, ProbeReport, ProtocolResult, ProtocolStatus

    rows = tuple(
        ProtocolResult(p, ProtocolStatus.ANSWERED if p is not ProbeProtocol.PPTP else ProtocolStatus.CLOSED)
        for p in ProbeProtocol
    )
    report = ProbeReport(
        "vpn.example.com",
        "192.0.2.1",
        rows,
        (),
        CryptoSuggestion("l2tp_ipsec", ("3des-sha1-modp1024",), allow_legacy=True),
    )
    flow = NewConnectionFlow()
    message = flow.apply_probe(report)
    assert flow.protocol is Protocol.L2TP_IPSEC
    assert flow.answers["ike_proposals"] == "3des-sha1-modp1024" and flow.answers["allow_legacy"] is True
    assert "IKEv2, IKEv1, L2TP" in message and "legacy" in message
