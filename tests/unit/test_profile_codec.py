"""Profiles survive every trip through JSON; broken JSON fails only with ValidationError."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.strategies import profiles
from wizard.profiles.codec import (
    export_document,
    import_document,
    profile_from_dict,
    profile_from_json,
    profile_to_dict,
    profile_to_json,
)
from wizard.profiles.errors import ValidationError
from wizard.profiles.model import Gateway, Profile, Protocol
from wizard.profiles.store import ProfileStore


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(profile=profiles())
def test_valid_profile_survives_save_load_export_import(profile: Profile, tmp_path_factory: Any) -> None:
    profile.validate()
    assert profile_from_json(profile_to_json(profile)) == profile

    store = ProfileStore(tmp_path_factory.mktemp("cfg"))
    store.save(profile)
    loaded, broken = store.load_all()
    assert broken == [] and loaded == [profile]

    exported = json.loads(json.dumps(export_document(profile)))
    assert import_document(exported) == profile


def _mutations() -> st.SearchStrategy[Any]:
    leaf = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=True) | st.text(max_size=20)
    return st.recursive(
        leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=6
    )


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


@settings(max_examples=400)
@given(profile=profiles(), data=st.data())
def test_mutated_json_loads_or_fails_with_validation_error(profile: Profile, data: st.DataObject) -> None:
    document = profile_to_dict(profile)
    paths = _paths(document)
    path = data.draw(st.sampled_from(paths))
    mutated = copy.deepcopy(document)
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if not path:
        mutated = data.draw(_mutations())
    else:
        parent = mutated
        for step in path[:-1]:
            parent = parent[step]
        if action == "replace":
            parent[path[-1]] = data.draw(_mutations())
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.text(max_size=10))] = data.draw(_mutations())
    try:
        result = profile_from_dict(mutated)
    except ValidationError as exc:
        assert str(exc)  # a message the user can read
    else:
        result.validate()
        assert isinstance(result, Profile)


def test_unknown_field_is_named_with_its_path() -> None:
    document = profile_to_dict(Profile(name="A", protocol=Protocol.L2TP, gateways=(Gateway("vpn.example.com"),)))
    document["auth"]["usrname"] = "bob"
    with pytest.raises(ValidationError) as info:
        profile_from_dict(document)
    assert info.value.field == "auth.usrname"
    assert "unknown field" in str(info.value) and "username" in str(info.value)


def test_wrong_type_says_what_was_expected() -> None:
    document = profile_to_dict(Profile(name="A", protocol=Protocol.L2TP, gateways=(Gateway("vpn.example.com"),)))
    document["ppp"]["mru"] = "1400"
    with pytest.raises(ValidationError, match=r"ppp\.mru: must be a whole number, not the text '1400'"):
        profile_from_dict(document)


def test_invalid_json_text_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="not valid JSON"):
        profile_from_json("{not json")


def test_export_envelope_of_another_format_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a format we read"):
        import_document({"format": "pbk", "profile": {}})
