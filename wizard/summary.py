"""A plain-language description of a profile, for ``show``, import previews and the wizard summary."""

from __future__ import annotations

from collections.abc import Sequence

from wizard.profiles.model import Profile, Protocol, TunnelMode


def describe_profile(profile: Profile, saved_secrets: Sequence[str] | None = None) -> str:
    lines = [f"{profile.name}", f"  Type:        {profile.protocol.label}"]
    if profile.protocol is Protocol.AUTOMATIC:
        lines.append(f"  Tries:       {' -> '.join(p.label for p in profile.fallback)}")
    for i, gateway in enumerate(profile.gateways):
        extra = ", ".join(x for x in (gateway.label, gateway.region) if x)
        head = "  Gateway:    " if i == 0 else "              "
        lines.append(f"{head} {gateway.host}{f' ({extra})' if extra else ''}")
    auth = profile.auth
    lines.append(f"  Sign-in:     {auth.method.value}" + (f" as {auth.username}" if auth.username else ""))
    if any(p.uses_ppp for p in profile.protocols):
        lines.append(f"  PPP auth:    {', '.join(m.value for m in auth.ppp_methods)}; MPPE {profile.ppp.mppe.value}")
    if any(p.uses_ipsec for p in profile.protocols):
        lines.append(f"  IKE:         {', '.join(profile.crypto.ike_proposals)}")
        lines.append(f"  ESP:         {', '.join(profile.crypto.esp_proposals)}")
    if profile.routing.mode is TunnelMode.FULL:
        lines.append("  Routing:     all traffic through the VPN")
    else:
        routes = ", ".join(profile.routing.routes) or "routes from the gateway"
        lines.append(f"  Routing:     only {routes}")
    if profile.dns.servers or profile.dns.split_domains:
        lines.append(
            f"  DNS:         {', '.join(profile.dns.servers) or 'from the gateway'}"
            + (f" for {', '.join(profile.dns.split_domains)}" if profile.dns.split_domains else "")
        )
    lines.append(f"  Kill switch: {'on' if profile.kill_switch.enabled else 'off'}")
    lines.append(f"  Credentials: {profile.credential_policy.value.replace('_', ' ')}")
    if saved_secrets is not None:
        needed = ", ".join(s.value for s in auth.secrets) or "none"
        lines.append(f"  Secrets:     needs {needed}; saved in keyring: {', '.join(saved_secrets) or 'none'}")
    for weakness in profile.weaknesses():
        lines.append(f"  WEAK:        {weakness}")
    return "\n".join(lines)
