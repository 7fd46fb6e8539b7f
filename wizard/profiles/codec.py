"""JSON <-> Profile, strictly.

Decoding walks the dataclass fields by their type hints, so every value is checked against its
declared type and every unknown key is rejected with its full path (``auth.usrname: unknown field``).
Anything wrong becomes a :class:`ValidationError`; no other exception escapes ``profile_from_dict``.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from enum import Enum
from functools import cache
from typing import Any

from wizard.profiles.errors import ValidationError
from wizard.profiles.migrations import migrate
from wizard.profiles.model import SCHEMA_VERSION, Profile

EXPORT_FORMAT = "connection-wizard-profile"


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    """A JSON-ready dict with the schema version first."""
    body = _encode(profile)
    assert isinstance(body, dict)
    return {"schema_version": SCHEMA_VERSION, **body}


def profile_from_dict(data: object) -> Profile:
    """Decode and validate a stored or imported profile of any known schema version."""
    if not isinstance(data, dict):
        raise ValidationError("", f"a profile must be a JSON object, not {_json_type(data)}")
    current = migrate(data)
    current.pop("schema_version", None)
    profile = _decode(Profile, current, "")
    assert isinstance(profile, Profile)
    profile.validate()
    return profile


def profile_to_json(profile: Profile) -> str:
    return json.dumps(profile_to_dict(profile), indent=2, ensure_ascii=False) + "\n"


def profile_from_json(text: str | bytes) -> Profile:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValidationError("", f"the file is not valid JSON ({exc})") from None
    return profile_from_dict(data)


def export_document(profile: Profile) -> dict[str, Any]:
    """The portable export: a marked envelope around the profile, with no secrets by construction."""
    return {"format": EXPORT_FORMAT, "profile": profile_to_dict(profile)}


def import_document(data: object) -> Profile:
    """Accept our export envelope or a bare profile object."""
    if isinstance(data, dict) and "format" in data:
        if data.get("format") != EXPORT_FORMAT:
            raise ValidationError("format", f"{data.get('format')!r} is not a format we read", EXPORT_FORMAT)
        unknown = set(data) - {"format", "profile"}
        if unknown:
            raise ValidationError(sorted(unknown)[0], "unknown field in the export envelope")
        try:
            return profile_from_dict(data.get("profile"))
        except ValidationError as exc:
            raise exc.under("profile") from None
    return profile_from_dict(data)


def _encode(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(annotation: Any, value: object, path: str) -> object:
    origin = typing.get_origin(annotation)
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return _decode_dataclass(annotation, value, path)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(annotation)
        if not isinstance(value, list):
            raise ValidationError(path, f"must be a list, not {_json_type(value)}")
        return tuple(_decode(item_type, item, f"{path}[{i}]") for i, item in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"unions are not used in the profile model ({path})")
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = ", ".join(str(m.value) for m in annotation)
        try:
            return annotation(value)
        except ValueError:
            raise ValidationError(path, f"{value!r} is not allowed", choices) from None
    if annotation is bool:
        if not isinstance(value, bool):
            raise ValidationError(path, f"must be true or false, not {_json_type(value)}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(path, f"must be a whole number, not {_json_type(value)}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise ValidationError(path, f"must be a number, not {_json_type(value)}")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ValidationError(path, f"must be text, not {_json_type(value)}")
        if len(value) > 4096:
            raise ValidationError(path, "is longer than 4096 characters")
        return value
    raise TypeError(f"unsupported annotation {annotation!r} at {path}")


def _decode_dataclass(cls: type, value: object, path: str) -> object:
    if not isinstance(value, dict):
        raise ValidationError(path, f"must be an object, not {_json_type(value)}")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in value:
        if key not in fields:
            allowed = ", ".join(fields)
            raise ValidationError(_join(path, str(key)), "unknown field", allowed)
    kwargs: dict[str, object] = {}
    for name, f in fields.items():
        if name in value:
            kwargs[name] = _decode(hints[name], value[name], _join(path, name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValidationError(_join(path, name), "is required")
    return cls(**kwargs)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
