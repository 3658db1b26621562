"""Render every form of one case from its draft, record the clips in the draft, and validate the draft."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from bantay.errors import BantayError
from bantay.sar import fincen, goaml, html, nca

DRAFT_SCHEMA_FILE = "draft.schema.json"


class DraftSchemaError(BantayError):
    """A draft does not match draft.schema.json (a bug in the builder: say which case and where)."""


@cache
def draft_schema() -> dict[str, Any]:
    with (
        resources.files("bantay.sar")
        .joinpath("schemas", DRAFT_SCHEMA_FILE)
        .open("r", encoding="utf-8") as handle
    ):
        schema: dict[str, Any] = json.load(handle)
    return schema


def validate_draft(draft: Mapping[str, Any]) -> None:
    """Raise DraftSchemaError naming the case and the failing path (never the value: it may be personal)."""
    validator = jsonschema.Draft202012Validator(draft_schema())
    error = next(iter(sorted(validator.iter_errors(draft), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise DraftSchemaError(
            f"case {draft.get('case_id')}: draft.json fails its schema at {where} ({error.validator})"
        )


def render_forms(
    draft: dict[str, Any], goaml_config: Mapping[str, Any], goaml_xsd: Path | None = None, pdf: bool = False
) -> dict[str, bytes]:
    """All files of a case folder, by name. Adds the forms' truncation notes to `draft` before writing it."""
    fincen_xml, fincen_clips = fincen.build(
        draft, tcc=draft["institution"].get("fincen_tcc") or fincen.DEFAULT_TCC
    )
    goaml_xml, goaml_clips = goaml.build(draft, goaml_config, goaml_xsd)
    draft["truncations"] = [clip.as_dict() for clip in (*fincen_clips, *goaml_clips)]
    validate_draft(draft)
    page = html.render(draft)
    files = {
        "draft.json": (json.dumps(draft, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode(
            "utf-8"
        ),
        "draft.html": page.encode("utf-8"),
        "fincen_sar.xml": fincen_xml,
        "goaml_str.xml": goaml_xml,
        "nca_sar.txt": nca.render(draft).encode("utf-8"),
    }
    if pdf:
        files["draft.pdf"] = html.render_pdf(page)
    return files
