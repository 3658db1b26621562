"""Forms rendered from a draft, without Spark: hostile input, numbers, NCA codes, goAML config, snapshots."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from lxml import etree
from sar_world import AS_OF, GENERATED_AT, code

from bantay.errors import ConfigError
from bantay.sar import build, case, fincen, fx, goaml, html, narrative, nca
from bantay.sar.evidence import TXN_COLUMNS

EXPECTED = Path(__file__).parent / "expected"
FX_TABLE = pd.DataFrame(
    {
        "rate_date": [date(2025, 1, 1)] * 4,
        "currency": ["AUD", "CAD", "GBP", "PHP"],
        "usd_per_unit": [0.625, 0.8, 1.25, 0.0175],
    }
)
HOSTILE = "<script>alert('x')</script> & \"Bob\" \x01\x0b\u202eevil\u202c \U0001f600 \ufffe"


def _txn(txn_id: str, when: datetime, amount: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {name: None for name in TXN_COLUMNS}
    row.update(
        txn_id=txn_id,
        booked_at=pd.Timestamp(when, tz="UTC"),
        booking_date=when.date(),
        local_time=when.strftime("%Y-%m-%d %H:%M"),
        customer_id="c9",
        account_id="A-c9",
        direction="out",
        channel="remittance",
        amount=Decimal(amount),
        currency="USD",
        amount_usd=float(amount),
        amount_reporting=float(amount),
        counterparty_id="P9",
        counterparty_name="Lita Ramos",
        counterparty_country="PH",
        counterparty_city="Quezon City",
        is_p2p=True,
        is_night=False,
        is_round=True,
        is_keyword=False,
        is_related_spend=False,
    )
    row.update(overrides)
    return row


def _customer(**overrides: Any) -> dict[str, Any]:
    customer = {
        "customer_id": "c9",
        "full_name": "Peter Sample",
        "birth_date": date(1960, 6, 1),
        "gender": "M",
        "nationality": "AU",
        "residence_country": "AU",
        "timezone": "Australia/Sydney",
        "address_line": "9 Test Street",
        "city": "Sydney",
        "postcode": "2000",
        "id_type": "passport",
        "id_number": "PA1234567",
        "occupation": "Retired",
        "onboarded_at": datetime(2019, 1, 2, 3, 4, 5),
    }
    customer.update(overrides)
    return customer


def _draft(
    rows: list[dict[str, Any]],
    customer: dict[str, Any] | None = None,
    reasons: list[dict[str, Any]] | None = None,
    clusters: pd.DataFrame | None = None,
    cluster_payers: pd.DataFrame | None = None,
    case_ids: dict[str, str] | None = None,
) -> dict[str, Any]:
    score = {
        "customer_id": "c9",
        "score": 0.8123,
        "rank": 4,
        "model_version": "12",
        "reasons": reasons
        or [
            {
                "code": code("n_airline_90d"),
                "feature": "n_airline_90d",
                "text": "2 airline payments in 90 days",
                "contribution": 0.7,
                "value": 2.0,
            },
            {
                "code": code("median_p2p_usd_90d"),
                "feature": "median_p2p_usd_90d",
                "text": "median payment to individuals abroad USD 55 (90 days)",
                "contribution": 0.4,
                "value": 55.0,
            },
        ],
    }
    draft = build.build_draft(
        as_of=AS_OF,
        generated_at=GENERATED_AT.replace(tzinfo=UTC),
        score=score,
        customer=customer or _customer(),
        transactions=pd.DataFrame(rows, columns=list(TXN_COLUMNS)),
        clusters=pd.DataFrame({"counterparty_id": [], "cluster_id": []}) if clusters is None else clusters,
        cluster_payers=(
            pd.DataFrame({"cluster_id": [], "customer_id": []}) if cluster_payers is None else cluster_payers
        ),
        case_ids=case_ids or {},
        institution={
            "name": "Demo Bank (synthetic)",
            "tin": "000000000",
            "tin_type": "EIN",
            "rssd_id": "0",
            "primary_regulator": "OCC",
            "institution_type": "Depository institution",
            "address": "1 Example Street",
            "city": "Springfield",
            "state": "VA",
            "postcode": "22150",
            "country": "US",
            "contact_office": "Financial Intelligence Unit",
            "contact_phone": "5555550100",
            "goaml_reporting_entity_id": "42",
            "nca_reporter_id": "",
        },
        reporting_currency="USD",
        catalogue=build.feature_catalogue(),
        goaml=goaml.load_config(),
    )
    # As the draft job does: the ledger's rates for the forms in AUD and CAD (from 2025-01-01 on).
    draft["fx_rates"] = fx.rates_for(draft["transactions"], FX_TABLE, {"AUD", "CAD"})
    return draft


def _travel_rows() -> list[dict[str, Any]]:
    return [
        _txn("x1", datetime(2025, 1, 10, 11, 0), "50.00"),
        _txn(
            "x2",
            datetime(2025, 2, 11, 11, 0),
            "60.00",
            channel="crypto",
            counterparty_id="P8",
            counterparty_name="Jun Dela Cruz",
            counterparty_city="Cebu City",
            is_round=False,
        ),
        # An airline ticket: the travel feature (O11) the model cites; never a ground, nor trafficking.
        _txn(
            "x3",
            datetime(2025, 2, 20, 9, 0),
            "812.40",
            channel="card",
            mcc="4511",
            counterparty_id="AIR",
            counterparty_name="Example Air",
            counterparty_country="AU",
            counterparty_city=None,
            is_p2p=False,
            is_round=False,
        ),
    ]


def _numbers(text: str) -> set[Decimal]:
    return {Decimal(m.replace(",", "")) for m in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


def _draft_numbers(value: Any) -> set[Decimal]:
    if isinstance(value, dict):
        return set().union(*(_draft_numbers(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_draft_numbers(v) for v in value)) if value else set()
    if isinstance(value, bool) or value is None:
        return set()
    if isinstance(value, int | float):
        return {Decimal(str(value))}
    return _numbers(str(value))


def test_narrative_numbers_all_appear_in_the_draft():
    draft = _draft(_travel_rows())
    forms = case.render_forms(draft, goaml.load_config())
    stored = json.loads(forms["draft.json"])
    allowed = _draft_numbers(stored)
    for text in (narrative.narrative(stored), forms["nca_sar.txt"].decode()):
        missing = _numbers(text) - allowed
        assert not missing, f"numbers not in draft.json: {sorted(missing)}"
    # The check can fail: a number the draft does not hold is caught.
    assert _numbers("paid 123.45 USD") - allowed == {Decimal("123.45")}


def test_nca_text_starts_with_glossary_codes():
    text = nca.render(_draft(_travel_rows()))
    # XXV3XX always; XXVAXX because x2 went as crypto; no XXMSHTXX: an airline ticket is not trafficking.
    assert text.splitlines()[0] == "XXV3XX XXVAXX"
    for heading in ("WHO:", "WHAT:", "WHEN:", "WHERE:", "WHY:", "HOW:", "IMMEDIATE RISK CHECK:"):
        assert heading in text
    assert "2025-02-11T11:00:00Z | 60.00 USD" in text  # each transaction with its date
    assert "999" in text.split("IMMEDIATE RISK CHECK:")[1].splitlines()[0]
    plain = nca.render(_draft(_travel_rows()[:1]))
    assert plain.splitlines()[0] == "XXV3XX"


def test_travel_is_neither_evidence_nor_trafficking():
    draft = _draft(_travel_rows())
    assert [t["txn_id"] for t in draft["transactions"]] == ["x1", "x2"]  # not the airline ticket x3
    assert draft["trafficking_indicated"] is False
    ns = {"fc2": fincen.NS}
    # An airline ticket alone is not evidence of trafficking: 38(z) OCSE only.
    doc = etree.fromstring(fincen.build(draft)[0])
    assert doc.xpath("//fc2:SuspiciousActivitySubtypeID/text()", namespaces=ns) == ["9999"]
    assert doc.get("TotalAmount") == "110"  # 50 + 60 USD in whole dollars
    draft["trafficking_indicated"] = True
    doc = etree.fromstring(fincen.build(draft)[0])
    assert doc.xpath("//fc2:SuspiciousActivitySubtypeID/text()", namespaces=ns) == ["9999", "927"]


def test_hostile_text_gives_valid_safe_output():
    long_text = HOSTILE + "x" * 10_000
    rows = [
        _txn(
            "h1",
            datetime(2025, 2, 1, 10, 0),
            "10.00",
            counterparty_name=long_text,
            reference=long_text,
            counterparty_city=HOSTILE,
        )
    ]
    draft = _draft(
        rows,
        customer=_customer(
            full_name=long_text,
            address_line=HOSTILE,
            city=HOSTILE,
            occupation=long_text,
            id_number=HOSTILE,
            postcode=HOSTILE,
        ),
    )
    forms = case.render_forms(draft, goaml.load_config(), pdf=False)  # raises if FinCEN XML is invalid
    stored = json.loads(forms["draft.json"])
    clipped = {(t["form"], t["field"]) for t in stored["truncations"]}
    assert ("fincen_sar.xml", "Party33/RawIndividualFirstName") in clipped
    assert ("fincen_sar.xml", "Party33/OccupationBusinessText") in clipped
    assert ("goaml_str.xml", "transaction_description") in clipped  # a 10,000-character reference
    assert ("goaml_str.xml", "reason") in clipped  # the narrative names the customer: over 8,000
    page = forms["draft.html"].decode()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "\u202e" not in page and "\x01" not in page
    for name in ("fincen_sar.xml", "goaml_str.xml"):
        etree.fromstring(forms[name])  # well-formed
        assert b"\xe2\x80\xae" not in forms[name]  # no right-to-left override
    doc = etree.fromstring(forms["fincen_sar.xml"])
    blocks = doc.xpath("//fc2:ActivityNarrativeText/text()", namespaces={"fc2": fincen.NS})
    assert 1 <= len(blocks) <= 5 and all(len(b) <= 4000 for b in blocks)
    assert sum(len(b) for b in blocks) <= 17_000
    assert "\x01" not in forms["nca_sar.txt"].decode() and "\U0001f600" in forms["nca_sar.txt"].decode()


def test_validate_draft_rejects_a_broken_draft():
    draft = _draft(_travel_rows()[:1])
    draft["case_id"] = "not-a-case"
    with pytest.raises(case.DraftSchemaError, match="case_id"):
        case.validate_draft(draft)


def test_first_error_names_path_and_keyword_in_path_order():
    from bantay.sar import structure

    draft = _draft(_travel_rows()[:3])
    assert structure.first_error(case.DRAFT_SCHEMA_FILE, draft) is None
    broken = json.loads(json.dumps(draft))
    del broken["case_id"]
    assert structure.first_error(case.DRAFT_SCHEMA_FILE, broken) == ("(root)", "required")
    # Two faults in the transactions: the lower index comes first (2 before 10 as numbers, not as text).
    rows = [json.loads(json.dumps(broken["transactions"][0])) for _ in range(11)]
    rows[10]["txn_id"], rows[2]["txn_id"] = 5, 6
    listed = {**draft, "transactions": rows}
    assert structure.first_error(case.DRAFT_SCHEMA_FILE, listed) == ("transactions/2/txn_id", "type")
    with pytest.raises(case.DraftSchemaError) as raised:
        case.validate_draft(listed)
    # The path and the keyword, never the value.
    expected = f"case {draft['case_id']}: draft.json fails its schema at transactions/2/txn_id (type)"
    assert str(raised.value) == expected


def test_goaml_config_override_and_schema(tmp_path: Path):
    override = tmp_path / "fiu.yaml"
    override.write_text("report_code: SAR\nindicators: [X1, X2]\ntransmode_codes: {remittance: MT}\n")
    config = goaml.load_config(override)
    assert config["report_code"] == "SAR" and config["indicators"] == ["X1", "X2"]
    assert config["transmode_codes"]["remittance"] == "MT" and config["transmode_codes"]["card"] == "DBCD"
    draft = _draft(_travel_rows()[:1])
    lax = tmp_path / "lax.xsd"
    lax.write_text(_XSD.format(extra=""))
    xml, _ = goaml.build(draft, config, lax)
    doc = etree.fromstring(xml)
    assert doc.xpath("/report/report_indicators/indicator/text()") == ["X1", "X2"]
    assert doc.xpath("string(/report/transaction/transmode_code)") == "MT"
    strict = tmp_path / "strict.xsd"
    strict.write_text(_XSD.format(extra='<xs:attribute name="version" use="required"/>'))
    with pytest.raises(goaml.GoamlSchemaError, match="goAML XML invalid"):
        goaml.build(draft, config, strict)
    bad = tmp_path / "bad.yaml"
    bad.write_text("no_such_key: 1\n")
    with pytest.raises(ConfigError, match="no_such_key"):
        goaml.load_config(bad)


_XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="report"><xs:complexType>
    <xs:sequence><xs:any processContents="skip" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>{extra}
  </xs:complexType></xs:element>
</xs:schema>"""


def test_render_pdf_writes_a_pdf():
    page = html.render(_draft(_travel_rows()))
    assert html.render_pdf(page)[:5] == b"%PDF-"


@pytest.mark.parametrize("name", ["draft.html", "nca_sar.txt"])
def test_render_matches_snapshot(name: str):
    """Fixed inputs and generation time give byte-identical output (UPDATE_SNAPSHOTS=1 rewrites)."""
    forms = case.render_forms(_draft(_travel_rows()), goaml.load_config())
    expected = EXPECTED / f"c9_{name}"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        expected.parent.mkdir(exist_ok=True)
        expected.write_bytes(forms[name])
    assert forms[name].decode() == expected.read_text(encoding="utf-8")


def test_a_draft_scored_by_the_rules_heads_its_reasons_as_rules():
    draft = _draft(_travel_rows())
    draft["model"]["version"] = "bantay-rules/1"
    page = html.render(draft)
    assert "<th>Rule</th>" in page and "<th>Rule's wording</th>" in page
    assert '<th class="num">Share of the points</th>' in page and "Model's wording" not in page
    assert "<th>Reason code</th>" in html.render(_draft(_travel_rows()))


def test_a_case_without_an_outgoing_payment_omits_goaml_and_fintrac_and_says_why():
    """goAML and FINTRAC need a transaction: a case whose grounds hold no outgoing payment gets neither file,
    its draft names the omitted forms, and every other form is still written (and valid)."""
    draft = _draft(_travel_rows())
    assert "goaml_str.xml" in case.render_forms(draft, goaml.load_config())
    draft["transactions"] = [{**t, "direction": "in"} for t in draft["transactions"]]
    forms = case.render_forms(draft, goaml.load_config())
    assert [o["form"] for o in draft["forms_omitted"]] == ["goaml_str.xml", "fintrac_str.json"]
    assert set(forms) == {"draft.json", "draft.html", "fincen_sar.xml", "nca_sar.txt", "austrac_smr.xml"}


def test_nca_problems_finds_nothing_in_a_rendered_text_and_each_part_removed():
    draft = _draft(_travel_rows())
    text = nca.render(draft)
    assert nca.problems(text, draft) == []
    lines = text.splitlines()
    # The glossary line without XXV3XX, a section dropped, a transaction line dropped, the total changed.
    assert nca.problems("\n".join(["XXVAXX", *lines[1:]]), draft) == ["glossary codes on the first line"]
    assert nca.problems("\n".join(line for line in lines if not line.startswith("HOW: ")), draft) == [
        "section HOW: (missing or out of order)"
    ]
    first = draft["transactions"][0]
    kept = [line for line in lines if not line.startswith(first["booked_at"])]
    assert nca.problems("\n".join(kept), draft) == [f"transaction line of {first['txn_id']}"]
    changed = text.replace(" in total.", " in all.")
    assert nca.problems(changed, draft) == ["total of the suspected criminal property"]
