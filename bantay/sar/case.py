"""Render every form of one case from its draft, record the clips in the draft, and validate the draft."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bantay.errors import BantayError
from bantay.sar import austrac, fincen, fintrac, goaml, html, nca, structure

DRAFT_SCHEMA_FILE = "draft.schema.json"


# The demo institution's values (bantay.settings.Institution defaults): never filed without saying so.
DEMO_TIN = "000000000"
DEMO_TCC = fincen.DEFAULT_TCC
# goAML ids start at 1; demo files (only with `demo`) use this one where no id is configured.
DEMO_RENTITY_ID = "1"


class DraftSchemaError(BantayError):
    """A draft does not match draft.schema.json (a bug in the builder: say which case and where)."""


class DemoInstitutionError(BantayError):
    """Regulator files would carry the demo institution's identifiers without the demo setting."""


def demo_values(institution: Mapping[str, Any]) -> list[str]:
    """The institution settings that still hold the demo institution's values."""
    found = []
    if str(institution.get("tin") or "").strip() in ("", DEMO_TIN):
        found.append(f"TIN {DEMO_TIN} (BANTAY_INSTITUTION__TIN)")
    if str(institution.get("fincen_tcc") or "").strip() in ("", DEMO_TCC):
        found.append(f"FinCEN test TCC {DEMO_TCC} (BANTAY_INSTITUTION__FINCEN_TCC)")
    if not _positive_int(institution.get("goaml_reporting_entity_id")):
        found.append("goAML rentity_id 0 (BANTAY_INSTITUTION__GOAML_REPORTING_ENTITY_ID)")
    return found


def institution_for_forms(institution: Mapping[str, Any], demo: bool) -> dict[str, Any]:
    """The institution the forms carry. Refuses the demo institution's identifiers unless `demo` is set;
    with `demo`, a missing goAML id becomes DEMO_RENTITY_ID so the goAML file still meets its schema."""
    found = demo_values(institution)
    if found and not demo:
        raise DemoInstitutionError(
            "refusing to write regulator files with the demo institution's "
            + ", ".join(found)
            + ": set your institution's values, or pass --demo (BANTAY_DEMO=1) for demonstration files"
        )
    chosen = dict(institution)
    if demo and not _positive_int(chosen.get("goaml_reporting_entity_id")):
        chosen["goaml_reporting_entity_id"] = DEMO_RENTITY_ID
    return chosen


def _positive_int(value: Any) -> bool:
    text = str(value if value is not None else "").strip()
    return text.isdigit() and int(text) >= 1


def validate_draft(draft: Mapping[str, Any]) -> None:
    """Raise DraftSchemaError naming the case and the failing path (never the value: it may be personal)."""
    error = structure.first_error(DRAFT_SCHEMA_FILE, draft)
    if error is not None:
        where, keyword = error
        case_id = draft.get("case_id")
        raise DraftSchemaError(f"case {case_id}: draft.json fails its schema at {where} ({keyword})")


def render_forms(
    draft: dict[str, Any], goaml_config: Mapping[str, Any], goaml_xsd: Path | None = None, pdf: bool = False
) -> dict[str, bytes]:
    """All files of a case folder, by name. Adds the forms' truncation notes to `draft` before writing it."""
    fincen_xml, fincen_clips = fincen.build(
        draft, tcc=draft["institution"].get("fincen_tcc") or fincen.DEFAULT_TCC
    )
    # goAML and FINTRAC reports need at least one transaction: a case whose grounds hold no outgoing payment
    # gets neither, and its draft says so.
    reportable = any(t["direction"] == "out" for t in draft["transactions"])
    goaml_xml, goaml_clips = goaml.build(draft, goaml_config, goaml_xsd) if reportable else (None, [])
    austrac_xml, austrac_clips = austrac.build(draft)
    fintrac_json = fintrac.build(draft) if reportable else None
    reason = "the report needs a transaction; no outgoing payment is behind this case's grounds"
    omitted = () if reportable else ("goaml_str.xml", "fintrac_str.json")
    draft["forms_omitted"] = [{"form": form, "reason": reason} for form in omitted]
    draft["truncations"] = [clip.as_dict() for clip in (*fincen_clips, *goaml_clips, *austrac_clips)]
    validate_draft(draft)
    page = html.render(draft)
    files = {
        "draft.json": (json.dumps(draft, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode(
            "utf-8"
        ),
        "draft.html": page.encode("utf-8"),
        "fincen_sar.xml": fincen_xml,
        "nca_sar.txt": nca.render(draft).encode("utf-8"),
        "austrac_smr.xml": austrac_xml,
    }
    if goaml_xml is not None:
        files["goaml_str.xml"] = goaml_xml
    if fintrac_json is not None:
        files["fintrac_str.json"] = fintrac_json
    if pdf:
        files["draft.pdf"] = html.render_pdf(page)
    return files
