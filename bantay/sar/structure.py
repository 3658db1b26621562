"""JSON-schema checks of the case files written as JSON (draft.json, the FINTRAC STR), draft 2020-12.

Each schema (a file of `bantay/sar/schemas/`) is read and compiled once per process with the pinned
jsonschema-rs; `first_error` names the first error by instance path: the path and the failing keyword, never
the value (it may be personal). The instances must hold plain JSON values (str, int, float, bool, None, lists
and dicts), as the builders make them: jsonschema-rs refuses numpy scalars and dates (ValueError), and a NaN
is no number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs


@cache
def schema(name: str) -> dict[str, Any]:
    """The JSON schema `schemas/<name>`."""
    with resources.files("bantay.sar").joinpath("schemas", name).open("r", encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


def _order(path: Any) -> list[tuple[int, int, str]]:
    """A path's sort key: array indices in number order, before names."""
    return [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in path]


@cache
def _validator(name: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(schema(name))


def first_error(name: str, instance: Mapping[str, Any]) -> tuple[str, str] | None:
    """(path, keyword) of `instance`'s first error against `schemas/<name>` in instance-path order (the path
    "/"-joined, "(root)" for the top; the keyword is the last step of the error's schema path), or None when
    it is valid. Several errors at one path come in jsonschema-rs's order."""
    errors = sorted(_validator(name).iter_errors(instance), key=lambda e: _order(e.instance_path))
    if not errors:
        return None
    error = errors[0]
    keyword = str(error.schema_path[-1]) if error.schema_path else "schema"
    return "/".join(str(p) for p in error.instance_path) or "(root)", keyword
