"""The request schema: what is accepted, and the exact error for each kind of bad request."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helper.conftest import make_profile
from wizard.helper import rpc
from wizard.helper.rpc import ErrorCode, RpcError
from wizard.profiles.codec import profile_to_dict

PROFILE = profile_to_dict(make_profile("Office"))


def line(message: Any) -> bytes:
    return json.dumps(message).encode()


def parse_error(raw: bytes) -> RpcError:
    with pytest.raises(RpcError) as err:
        rpc.parse_request(raw)
    return err.value


def test_every_method_parses_to_its_typed_params() -> None:
    cases = {
        "hello": ({"client": "gui"}, rpc.HelloParams("gui")),
        "disconnect": ({"session": "abc"}, rpc.DisconnectParams("abc")),
        "status": ({}, rpc.StatusParams(None)),
        "list_sessions": ({}, rpc.ListSessionsParams()),
        "subscribe": ({"session": "abc"}, rpc.SubscribeParams("abc")),
        "unsubscribe": ({}, rpc.UnsubscribeParams()),
    }
    for method, (params, expected) in cases.items():
        request = rpc.parse_request(line({"version": 1, "id": "r-1", "method": method, "params": params}))
        assert (request.id, request.method, request.params) == ("r-1", method, expected)
    assert set(cases) | {"connect"} == set(rpc.METHODS)


def test_connect_decodes_the_profile_and_keeps_secrets_out_of_repr() -> None:
    request = rpc.parse_request(
        line({"version": 1, "id": 3, "method": "connect", "params": {"profile": PROFILE, "secrets": {"password": "s3cr3t!"}}})
    )
    assert isinstance(request.params, rpc.ConnectParams)
    assert request.params.profile.name == "Office"
    assert request.params.secrets == {"password": "s3cr3t!"}
    assert "s3cr3t!" not in repr(request)


@pytest.mark.parametrize(
    ("message", "code", "text"),
    [
        ({"id": 1, "method": "hello"}, ErrorCode.BAD_REQUEST, "version: is required"),
        ({"version": "1", "id": 1, "method": "hello"}, ErrorCode.BAD_REQUEST, "version: must be a whole number"),
        ({"version": 9, "id": 1, "method": "hello"}, ErrorCode.VERSION, "version 9 is not supported"),
        ({"version": 1, "method": "hello"}, ErrorCode.BAD_REQUEST, "id: is required"),
        ({"version": 1, "id": True, "method": "hello"}, ErrorCode.BAD_REQUEST, "id: must be"),
        ({"version": 1, "id": -1, "method": "hello"}, ErrorCode.BAD_REQUEST, "id: must be"),
        ({"version": 1, "id": 1}, ErrorCode.BAD_REQUEST, "method: must be text"),
        ({"version": 1, "id": 1, "method": "format_disk"}, ErrorCode.UNKNOWN_METHOD, "unknown method 'format_disk'"),
        ({"version": 1, "id": 1, "method": "hello", "params": []}, ErrorCode.BAD_REQUEST, "params: must be an object"),
        ({"version": 1, "id": 1, "method": "hello", "x": 1}, ErrorCode.BAD_REQUEST, "unknown field 'x'"),
        ({"version": 1, "id": 1, "method": "status", "params": {"session": 5}}, ErrorCode.INVALID_PARAMS, "params.session: must be text"),
        ({"version": 1, "id": 1, "method": "status", "params": {"session": ""}}, ErrorCode.INVALID_PARAMS, "must not be empty"),
        ({"version": 1, "id": 1, "method": "list_sessions", "params": {"all": True}}, ErrorCode.INVALID_PARAMS, "params.all: unknown field for list_sessions"),
        ({"version": 1, "id": 1, "method": "connect", "params": {"secrets": {}}}, ErrorCode.INVALID_PARAMS, "params.profile: is required"),
        ({"version": 1, "id": 1, "method": "connect", "params": {"profile": {**PROFILE, "nmae": 1}, "secrets": {}}},
         ErrorCode.INVALID_PARAMS, "params.profile.nmae: unknown field"),
        ({"version": 1, "id": 1, "method": "connect", "params": {"profile": PROFILE, "secrets": {}}},
         ErrorCode.INVALID_PARAMS, "params.secrets: missing password"),
        ({"version": 1, "id": 1, "method": "connect", "params": {"profile": PROFILE, "secrets": {"password": 1}}},
         ErrorCode.INVALID_PARAMS, "params.secrets.password: must be text"),
        ({"version": 1, "id": 1, "method": "connect", "params": {"profile": PROFILE, "secrets": {"password": "a", "token": "b"}}},
         ErrorCode.INVALID_PARAMS, "params.secrets.token: unknown secret"),
    ],
)  # fmt: skip
def test_each_mistake_is_named(message: dict[str, Any], code: ErrorCode, text: str) -> None:
    error = parse_error(line(message))
    assert error.code is code
    assert text in error.message
    reply = error.to_reply()
    assert reply["error"] == {"code": code.value, "message": error.message}
    # a readable id is echoed so the client can match the error to its request
    if isinstance(message.get("id"), int) and not isinstance(message["id"], bool) and message["id"] >= 0:
        assert reply["id"] == message["id"]


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"{", "not valid JSON"),
        (b'{"version": NaN}', "not valid JSON"),
        (b'{"id": 1, "id": 2}', "appears twice"),
        (b"[" * 100_000, "nested too deeply"),
        (b'"hello"', "must be a JSON object"),
    ],
)
def test_malformed_lines_are_parse_errors(raw: bytes, text: str) -> None:
    error = parse_error(raw)
    assert error.code in (ErrorCode.PARSE,)
    assert text in error.message


def test_oversized_line_is_refused_before_decoding() -> None:
    error = parse_error(b" " * (rpc.MAX_LINE + 1))
    assert error.code is ErrorCode.TOO_LARGE


def test_secret_values_never_appear_in_errors() -> None:
    bad = {"version": 1, "id": 1, "method": "connect",
           "params": {"profile": PROFILE, "secrets": {"password": "hunter2hunter2", "psk": "hunter2hunter2"}}}  # fmt: skip
    assert "hunter2" not in parse_error(line(bad)).message
    bad["params"]["secrets"] = {"password": ["hunter2hunter2"]}  # type: ignore[index]
    assert "hunter2" not in parse_error(line(bad)).message


def test_encode_is_one_line() -> None:
    data = rpc.encode(rpc.event("progress", session="s", message="line\nbreak"))
    assert data.count(b"\n") == 1 and data.endswith(b"\n")
    assert json.loads(data)["message"] == "line\nbreak"


# --- fuzzing: any input gives a Request or an RpcError, nothing else --------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


def _parse_typed(raw: bytes) -> None:
    try:
        request = rpc.parse_request(raw)
    except RpcError as exc:
        assert isinstance(exc.code, ErrorCode) and exc.message
        return
    assert request.method in rpc.METHODS


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_bytes(raw: bytes) -> None:
    _parse_typed(raw)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([*rpc.METHODS, "nope"]),
    st.one_of(st.integers(), st.text(max_size=70), st.none(), st.booleans()),
    st.dictionaries(st.sampled_from(["client", "session", "profile", "secrets", "x"]), json_values, max_size=3),
    st.sampled_from([1, 1, 1, 0, "1"]),
)
def test_fuzz_structured_requests(method: str, request_id: object, params: dict[str, Any], version: object) -> None:
    _parse_typed(line({"version": version, "id": request_id, "method": method, "params": params}))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(list(PROFILE)), json_values, max_size=4), st.dictionaries(st.text(max_size=12), json_values, max_size=3))
def test_fuzz_connect_profiles(changes: dict[str, Any], secrets: dict[str, Any]) -> None:
    profile = {**PROFILE, **changes}
    _parse_typed(line({"version": 1, "id": 1, "method": "connect", "params": {"profile": profile, "secrets": secrets}}))
