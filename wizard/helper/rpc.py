"""The helper's wire protocol: one JSON object per line, versioned, every field checked.

Pure functions and frozen dataclasses only (no sockets, no asyncio), so hypothesis can throw any
byte string at :func:`parse_request`: it returns a typed :class:`Request` or raises
:class:`RpcError`, never anything else. Error messages name the field and the problem; they never
repeat a secret's value.

Request  ``{"version": 1, "id": 7, "method": "connect", "params": {...}}``
Reply    ``{"version": 1, "id": 7, "result": {...}}`` or ``{"version": 1, "id": 7, "error": {"code", "message"}}``
Event    ``{"version": 1, "event": "state" | "progress" | "error" | "counters" | "note", ...}`` (no id)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from wizard.profiles.codec import profile_from_dict
from wizard.profiles.errors import ValidationError
from wizard.profiles.files import FILE_FIELDS, MAX_FILE
from wizard.profiles.model import Profile, SecretKind

PROTOCOL_VERSION = 1
MAX_LINE = 1024 * 1024  # bytes, newline excluded
MAX_ID_TEXT = 64
MAX_SECRET = 4096
MAX_SESSION_ID = 64
MAX_ID_INT = 2**53


class ErrorCode(StrEnum):
    PARSE = "parse_error"  # not JSON, not an object
    TOO_LARGE = "too_large"
    VERSION = "unsupported_version"
    BAD_REQUEST = "bad_request"  # envelope wrong: id, method, params missing or mistyped
    UNKNOWN_METHOD = "unknown_method"
    INVALID_PARAMS = "invalid_params"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    LIMIT = "limit"
    FAILED = "failed"
    INTERNAL = "internal"


class RpcError(Exception):
    """A request we refuse; ``request_id`` is echoed in the reply when we could read it."""

    def __init__(self, code: ErrorCode, message: str, request_id: int | str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id

    def to_reply(self) -> dict[str, Any]:
        return error_reply(self.request_id, self.code, self.message)


# --- typed parameters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HelloParams:
    client: str = ""


@dataclass(frozen=True)
class ConnectParams:
    profile: Profile
    secrets: Mapping[str, str] = field(repr=False)  # never printed
    files: Mapping[str, str] = field(default_factory=dict, repr=False)  # PEM text of the profile's files

    def __repr__(self) -> str:
        return f"ConnectParams(profile={self.profile.name!r}, secrets=[{', '.join(sorted(self.secrets))}])"


@dataclass(frozen=True)
class DisconnectParams:
    session: str


@dataclass(frozen=True)
class StatusParams:
    session: str | None = None


@dataclass(frozen=True)
class ListSessionsParams:
    pass


@dataclass(frozen=True)
class SubscribeParams:
    session: str | None = None


@dataclass(frozen=True)
class UnsubscribeParams:
    pass


Params = (
    HelloParams
    | ConnectParams
    | DisconnectParams
    | StatusParams
    | ListSessionsParams
    | SubscribeParams
    | UnsubscribeParams
)


@dataclass(frozen=True)
class Request:
    id: int | str
    method: str
    params: Params


# --- field checks --------------------------------------------------------------------------------


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _text(max_len: int) -> Callable[[str, object], str]:
    def check(path: str, value: object) -> str:
        if not isinstance(value, str):
            raise _invalid(path, f"must be text, not {_describe(value)}")
        if len(value) > max_len:
            raise _invalid(path, f"is longer than {max_len} characters")
        if any(ord(c) < 32 for c in value):
            raise _invalid(path, "contains control characters")
        return value

    return check


def _session_id(path: str, value: object) -> str:
    text = _text(MAX_SESSION_ID)(path, value)
    if not text:
        raise _invalid(path, "must not be empty")
    return text


def _invalid(path: str, problem: str) -> RpcError:
    return RpcError(ErrorCode.INVALID_PARAMS, f"{path}: {problem}")


def _secrets(path: str, value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _invalid(path, f"must be an object of secret name to text, not {_describe(value)}")
    allowed = {k.value for k in SecretKind}
    out: dict[str, str] = {}
    for key, secret in value.items():
        if key not in allowed:
            shown = key if len(key) <= 40 and key.isprintable() else "(unprintable name)"
            raise _invalid(f"{path}.{shown}", f"unknown secret (allowed: {', '.join(sorted(allowed))})")
        if not isinstance(secret, str):  # never echo the value
            raise _invalid(f"{path}.{key}", f"must be text, not {_describe(secret)}")
        if len(secret) > MAX_SECRET:
            raise _invalid(f"{path}.{key}", f"is longer than {MAX_SECRET} characters")
        out[key] = secret
    return out


def _files(path: str, value: object) -> dict[str, str]:
    """PEM files the profile names, read by the client: the helper never opens a user's path."""
    if not isinstance(value, dict):
        raise _invalid(path, f"must be an object of profile file field to PEM text, not {_describe(value)}")
    out: dict[str, str] = {}
    for key, text in value.items():
        if key not in FILE_FIELDS:
            shown = key if len(key) <= 40 and key.isprintable() else "(unprintable name)"
            raise _invalid(f"{path}.{shown}", f"unknown file (allowed: {', '.join(FILE_FIELDS)})")
        if not isinstance(text, str):  # a private key: never echo it
            raise _invalid(f"{path}.{key}", f"must be PEM text, not {_describe(text)}")
        if len(text) > MAX_FILE:
            raise _invalid(f"{path}.{key}", f"is longer than {MAX_FILE} characters")
        if "-----BEGIN " not in text:
            raise _invalid(f"{path}.{key}", "is not PEM text (no BEGIN line)")
        out[key] = text
    return out


def _profile(path: str, value: object) -> Profile:
    try:
        return profile_from_dict(value)
    except ValidationError as exc:
        message = (
            f"{path}.{exc}"
            if exc.field and not exc.field.startswith("[")
            else f"{path}{'' if exc.field else ': '}{exc}"
        )
        raise RpcError(ErrorCode.INVALID_PARAMS, message) from None
    except RecursionError:
        raise _invalid(path, "is nested too deeply") from None


@dataclass(frozen=True)
class _Field:
    check: Callable[[str, object], Any]
    required: bool = False


_SCHEMAS: dict[str, tuple[type, dict[str, _Field]]] = {
    "hello": (HelloParams, {"client": _Field(_text(100))}),
    "connect": (
        ConnectParams,
        {"profile": _Field(_profile, True), "secrets": _Field(_secrets, True), "files": _Field(_files)},
    ),
    "disconnect": (DisconnectParams, {"session": _Field(_session_id, True)}),
    "status": (StatusParams, {"session": _Field(_session_id)}),
    "list_sessions": (ListSessionsParams, {}),
    "subscribe": (SubscribeParams, {"session": _Field(_session_id)}),
    "unsubscribe": (UnsubscribeParams, {}),
}
METHODS = tuple(_SCHEMAS)
_ENVELOPE = {"version", "id", "method", "params"}


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key[:40]!r} appears twice")
        out[key] = value
    return out


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def decode_json_line(line: bytes) -> object:
    """Strict JSON: UTF-8, no NaN/Infinity, no duplicate keys; raises RpcError(PARSE)."""
    if len(line) > MAX_LINE:
        raise RpcError(ErrorCode.TOO_LARGE, f"the request is larger than {MAX_LINE} bytes")
    try:
        text = line.decode("utf-8")
        return json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise RpcError(ErrorCode.PARSE, "the request is not UTF-8 text") from None
    except RecursionError:
        raise RpcError(ErrorCode.PARSE, "the request is nested too deeply") from None
    except ValueError as exc:
        raise RpcError(ErrorCode.PARSE, f"the request is not valid JSON ({str(exc)[:120]})") from None


def parse_request(line: bytes) -> Request:
    """Decode and validate one request line (without its newline)."""
    data = decode_json_line(line)
    if not isinstance(data, dict):
        raise RpcError(ErrorCode.PARSE, f"a request must be a JSON object, not {_describe(data)}")
    request_id = _request_id(data)
    try:
        return _parse_envelope(data, request_id)
    except RpcError as exc:
        exc.request_id = request_id
        raise


def _request_id(data: dict[str, Any]) -> int | str | None:
    """The id if it is well-formed (so even a refused request's reply can be matched), else None."""
    value = data.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 <= value < MAX_ID_INT:
        return value
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_TEXT and value.isprintable():
        return value
    return None


def _parse_envelope(data: dict[str, Any], request_id: int | str | None) -> Request:
    unknown = sorted(set(data) - _ENVELOPE)
    if unknown:
        raise RpcError(
            ErrorCode.BAD_REQUEST, f"unknown field {unknown[0][:40]!r} (allowed: {', '.join(sorted(_ENVELOPE))})"
        )
    if "version" not in data:
        raise RpcError(ErrorCode.BAD_REQUEST, "version: is required")
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise RpcError(ErrorCode.BAD_REQUEST, f"version: must be a whole number, not {_describe(version)}")
    if version != PROTOCOL_VERSION:
        raise RpcError(
            ErrorCode.VERSION, f"protocol version {version} is not supported (this helper speaks {PROTOCOL_VERSION})"
        )
    if "id" not in data:
        raise RpcError(ErrorCode.BAD_REQUEST, "id: is required")
    if request_id is None:
        raise RpcError(
            ErrorCode.BAD_REQUEST, f"id: must be a whole number 0..2^53 or text of 1..{MAX_ID_TEXT} characters"
        )
    method = data.get("method")
    if not isinstance(method, str):
        raise RpcError(ErrorCode.BAD_REQUEST, f"method: must be text, not {_describe(method)}")
    if method not in _SCHEMAS:
        shown = method[:40] if method.isprintable() else "(unprintable)"
        raise RpcError(ErrorCode.UNKNOWN_METHOD, f"unknown method {shown!r} (known: {', '.join(METHODS)})")
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise RpcError(ErrorCode.BAD_REQUEST, f"params: must be an object, not {_describe(params)}")
    return Request(request_id, method, _parse_params(method, params))


def _parse_params(method: str, params: dict[str, Any]) -> Params:
    cls, fields = _SCHEMAS[method]
    for key in params:
        if key not in fields:
            shown = key[:40] if key.isprintable() else "(unprintable)"
            allowed = ", ".join(fields) or "none"
            raise RpcError(ErrorCode.INVALID_PARAMS, f"params.{shown}: unknown field for {method} (allowed: {allowed})")
    kwargs: dict[str, Any] = {}
    for name, spec in fields.items():
        if name in params:
            kwargs[name] = spec.check(f"params.{name}", params[name])
        elif spec.required:
            raise RpcError(ErrorCode.INVALID_PARAMS, f"params.{name}: is required for {method}")
    result: Params = cls(**kwargs)
    if isinstance(result, ConnectParams):
        _check_secrets_match(result)
    return result


def _check_secrets_match(params: ConnectParams) -> None:
    needed = {k.value for k in params.profile.auth.secrets}
    extra = sorted(set(params.secrets) - needed)
    if extra:
        raise _invalid(f"params.secrets.{extra[0]}", "this profile does not use this secret")
    missing = sorted(needed - set(params.secrets))
    if missing:
        raise _invalid("params.secrets", f"missing {', '.join(missing)} (the profile needs it)")
    for name in params.files:
        if not getattr(params.profile.auth, name):
            raise _invalid(f"params.files.{name}", "the profile names no such file")


# --- building messages ---------------------------------------------------------------------------


def request(request_id: int | str, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"version": PROTOCOL_VERSION, "id": request_id, "method": method}
    if params:
        message["params"] = dict(params)
    return message


def result_reply(request_id: int | str, result: Mapping[str, Any]) -> dict[str, Any]:
    return {"version": PROTOCOL_VERSION, "id": request_id, "result": dict(result)}


def error_reply(request_id: int | str | None, code: ErrorCode, message: str) -> dict[str, Any]:
    return {"version": PROTOCOL_VERSION, "id": request_id, "error": {"code": code.value, "message": message}}


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"version": PROTOCOL_VERSION, "event": kind, **fields}


def encode(message: Mapping[str, Any]) -> bytes:
    """One line of compact JSON with its newline."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
