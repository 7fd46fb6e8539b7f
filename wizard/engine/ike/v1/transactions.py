"""XAUTH (client and server) and Mode Config (pull and push) on an established ISAKMP SA."""

from __future__ import annotations

from wizard.engine.errors import ParseError
from wizard.engine.ike.payloads import (
    ExchangeType,
    Header,
    Payload,
)
from wizard.engine.ike.v1 import informational as info
from wizard.engine.ike.v1 import mode_config, xauth
from wizard.engine.ike.v1.constants import CfgType, PayloadType
from wizard.engine.ike.v1.core import ConnectionCore
from wizard.engine.ike.v1.events import (
    ModeConfigReceived,
    XauthDone,
    XauthRequested,
)
from wizard.engine.ike.v1.exchange import (
    Exchange,
    State,
    XauthPending,
)
from wizard.engine.ike.v1.messages import AttributePayload
from wizard.engine.ike.v1.sa import IsakmpSA


class TransactionsMixin(ConnectionCore):
    """Transaction exchanges (type 6): XAUTH and Mode Config."""

    def _on_transaction(self, sa: IsakmpSA, header: Header, msg: bytes, digest: bytes, now: float) -> None:
        payloads, rest, iv = self._decrypt(sa, header, msg)
        self._check_hash1(sa, header.message_id, payloads, rest)
        attr_payload = next((p for p in payloads if p.type == PayloadType.ATTRIBUTE), None)
        if attr_payload is None:
            raise ParseError("transaction exchange without an attribute payload")
        attrs = AttributePayload.decode(attr_payload.body)
        sa.commit_iv(header.message_id, iv)
        if self._dpd is not None:
            self._dpd.heard(now)
        key = (sa.cky_i, header.message_id)
        ex = self._exchanges.get(key)
        if ex is None:
            ex = self._new_exchange(sa, "peer", header.message_id)
            self._accepted(ex, digest)
            ex.finished_at = now
            if not self._peer_transaction(sa, ex, attrs, now):
                # Not now (e.g. before XAUTH finished): forget it so the peer's retransmission is looked at again.
                self._exchanges.pop((sa.cky_i, header.message_id), None)
                self.stats.unexpected_dropped += 1
            return
        self._accepted(ex, digest)
        if not ex.waiting:
            self.stats.unexpected_dropped += 1
            return
        ex.waiting = False
        ex.finished_at = now
        if ex.kind == "xauth_req" and attrs.cfg_type == CfgType.REPLY:
            self._xauth_server_reply(sa, attrs, now)
        elif ex.kind == "xauth_set" and attrs.cfg_type == CfgType.ACK:
            self._xauth_server_done(sa, ex, now)
        elif ex.kind == "cfg" and attrs.cfg_type == CfgType.REPLY:
            try:
                received = mode_config.check_reply(attrs)
            except ParseError:
                self._fail(f"{self.peer_label} answered the Mode Config request without an address", now, None)
                return
            self._mode_config_received(received, now)
        else:
            self.stats.unexpected_dropped += 1

    def _peer_transaction(self, sa: IsakmpSA, ex: Exchange, attrs: AttributePayload, now: float) -> bool:
        is_x = xauth.is_xauth(attrs)
        client = self.role == "initiator"
        if is_x and attrs.cfg_type == CfgType.REQUEST and client:
            prompt = xauth.parse_request(attrs)
            self._xauth_deadline = None
            creds = self._xauth_creds
            self._emit(XauthRequested(prompt.message, answered_from_config=creds is not None))
            if creds is None:
                self._xauth_pending = XauthPending(ex, prompt)
            else:
                self._send_xauth_reply(ex, prompt, now)
        elif is_x and attrs.cfg_type == CfgType.SET and client:
            ok = xauth.status_of(attrs)
            ex.last_out = info.protected(sa, ex.mid, [Payload(PayloadType.ATTRIBUTE, xauth.ack(attrs).encode())], ExchangeType.TRANSACTION)
            self._send_raw(ex.last_out)
            user = self._xauth_creds[0] if self._xauth_creds else ""
            if ok:
                sa.xauth_done = True
                self._emit(XauthDone(True, user))
                if self.state is State.XAUTH:
                    if self.config.mode_config:
                        self._start_mode_config(now)
                    else:
                        self._start_first_child(now)
            else:
                self._emit(XauthDone(False, user))
                self._fail(f"{self.peer_label} rejected the user name or password (XAUTH)", now, None)
        elif not is_x and attrs.cfg_type == CfgType.SET and self.role == "initiator":
            reply = mode_config.ack(attrs)
            ex.last_out = info.protected(sa, ex.mid, [Payload(PayloadType.ATTRIBUTE, reply.encode())], ExchangeType.TRANSACTION)
            self._send_raw(ex.last_out)
            received = mode_config.parse(attrs)
            if received.address is not None:
                self._mode_config_received(received, now)
        elif not is_x and attrs.cfg_type == CfgType.REQUEST and self.role == "responder":
            return self._mode_config_serve(sa, ex, attrs, now)
        else:
            return False
        return True

    def _send_xauth_reply(self, ex: Exchange, prompt: xauth.XauthPrompt, now: float) -> None:
        assert self._xauth_creds is not None
        reply = xauth.reply(prompt, *self._xauth_creds)
        ex.last_out = info.protected(ex.sa, ex.mid, [Payload(PayloadType.ATTRIBUTE, reply.encode())], ExchangeType.TRANSACTION)
        ex.finished_at = now
        self._send_raw(ex.last_out)

    def _send_xauth_request(self, sa: IsakmpSA, now: float) -> None:
        ex = self._new_exchange(sa, "xauth_req")
        req = xauth.request(int.from_bytes(self._rand(2), "big"))
        self._send(ex, info.protected(sa, ex.mid, [Payload(PayloadType.ATTRIBUTE, req.encode())], ExchangeType.TRANSACTION), now,
                   expect_reply=True)  # fmt: skip

    def _xauth_server_reply(self, sa: IsakmpSA, attrs: AttributePayload, now: float) -> None:
        creds = xauth.parse_reply(attrs)
        check = self.config.xauth_check
        ok = creds is not None and check is not None and bool(check(*creds))
        ex = self._new_exchange(sa, "xauth_set")
        ex.xauth_ok = ok
        ex.xauth_user = creds[0] if creds else ""
        status = xauth.status_set(attrs.identifier, ok)
        self._send(ex, info.protected(sa, ex.mid, [Payload(PayloadType.ATTRIBUTE, status.encode())], ExchangeType.TRANSACTION), now,
                   expect_reply=True)  # fmt: skip

    def _xauth_server_done(self, sa: IsakmpSA, ex: Exchange, now: float) -> None:
        self._emit(XauthDone(ex.xauth_ok, ex.xauth_user))
        if not ex.xauth_ok:
            self._fail(f"{self.peer_label} gave a wrong XAUTH user name or password (user {ex.xauth_user!r})", now, None)
            return
        sa.xauth_done = True
        sa.xauth_user = ex.xauth_user
        if self.state is State.XAUTH:
            self.state = State.QUICK_MODE

    def _start_mode_config(self, now: float) -> None:
        sa = self._ike
        assert sa is not None
        self.state = State.MODE_CONFIG
        ex = self._new_exchange(sa, "cfg")
        req = mode_config.request(int.from_bytes(self._rand(2), "big"))
        self._send(ex, info.protected(sa, ex.mid, [Payload(PayloadType.ATTRIBUTE, req.encode())], ExchangeType.TRANSACTION), now,
                   expect_reply=True)  # fmt: skip

    def _mode_config_received(self, received: ModeConfigReceived, now: float) -> None:
        first = self.virtual_address is None
        self.virtual_address = received.address
        self._emit(received)
        if (first and self.state is State.MODE_CONFIG) or self.state is State.XAUTH:
            self._start_first_child(now)

    def _implicit_xauth_ack(self, sa: IsakmpSA, now: float) -> None:
        """A protected request after our XAUTH SET(OK) means the client got it even if its ACK was lost."""
        if sa.xauth_done:
            return
        for ex in list(self._exchanges.values()):
            if ex.sa is sa and ex.kind == "xauth_set" and ex.waiting and ex.xauth_ok:
                ex.waiting = False
                ex.finished_at = now
                self._xauth_server_done(sa, ex, now)
                return

    def _mode_config_serve(self, sa: IsakmpSA, ex: Exchange, attrs: AttributePayload, now: float) -> bool:
        provider = self.config.mode_config_provider
        self._implicit_xauth_ack(sa, now)
        if not sa.xauth_done:
            return False
        lease = provider(sa.xauth_user or sa.peer_id) if provider is not None else None
        if lease is None:
            ex.last_out = info.protected(sa, ex.mid, [Payload(PayloadType.ATTRIBUTE, AttributePayload(CfgType.REPLY, attrs.identifier, ()).encode())],
                                         ExchangeType.TRANSACTION)  # fmt: skip
            self._send_raw(ex.last_out)
            self._fail(f"no virtual address could be handed to {self.peer_label} (Mode Config)", now, None)
            return True
        self.peer_virtual_address = lease.address
        reply = mode_config.reply(attrs, lease)
        ex.last_out = info.protected(sa, ex.mid, [Payload(PayloadType.ATTRIBUTE, reply.encode())], ExchangeType.TRANSACTION)
        self._send_raw(ex.last_out)
        self._emit(ModeConfigReceived(lease.address, lease.netmask, lease.dns, (), lease.domain, lease.split_include, lease.banner))
        return True
