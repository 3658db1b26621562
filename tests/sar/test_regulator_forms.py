"""The five regulator forms after the investigators' review: names recorded as "SURNAME, GIVEN", an exchange
in a hub cluster filed as an entity, NCA's "(no reference)", each regulator's own guidance, currency and
emergency number, and no internal cluster ids, other cases or DRAFT line in what a regulator receives.

Customer c9 (Sydney) paid, in February 2025, all in USD (AUD at 0.625 USD per AUD):
- r1: USD 40.00 by remittance to "FLORES, Marites" (P1), no reference;
- r2: USD 60.00 by remittance to "Angelo Flores" (P2), reference "school fees";
  P1 and P2 are records of facilitator cluster KF (shared phone), also paid by c5, a confirmed case with an
  open case of its own (C-20250301-0a1b2c3d4e);
- c1: USD 25.00 by crypto to the wallet bc1qexample at "Coinbase" (EX1), reference "gift"; EX1 is the one
  record of hub cluster KH (paid by 370 senders in the year): an exchange.
Reported: r1, r2, c1, USD 125.00, AUD 200.00.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pandas as pd
import pytest
from lxml import etree
from sar_world import code
from test_forms import _draft, _txn

from bantay.sar import austrac, case, fincen, fintrac, goaml, narrative

OTHER_CASE = "C-20250301-0a1b2c3d4e"
CITED = ("n_pay_confirmed_cluster_365d", "max_other_senders_cluster_90d", "max_members_cluster_365d")


def _rows() -> list[dict[str, Any]]:
    return [
        _txn(
            "r1",
            datetime(2025, 2, 3, 11, 0),
            "40.00",
            counterparty_id="P1",
            counterparty_name="FLORES, Marites",
        ),
        _txn(
            "r2",
            datetime(2025, 2, 10, 11, 0),
            "60.00",
            counterparty_id="P2",
            counterparty_name="Angelo Flores",
            reference="school fees",
            is_keyword=True,
        ),
        _txn(
            "c1",
            datetime(2025, 2, 12, 11, 0),
            "25.00",
            channel="crypto",
            counterparty_id="EX1",
            counterparty_name="Coinbase",
            counterparty_account="bc1qexample",
            counterparty_country="US",
            counterparty_city=None,
            reference="gift",
            is_keyword=True,
        ),
    ]


def _clusters(hub: bool) -> pd.DataFrame:
    facts = {
        "KH": {"n_members": 1, "n_senders_90d": 300, "n_sender_countries_90d": 4, "n_senders_365d": 370,
               "n_confirmed_payers_365d": 0, "share_cash_pickup_365d": 0.0, "region": "US", "is_hub": hub},
        "KF": {"n_members": 2, "n_senders_90d": 3, "n_sender_countries_90d": 2, "n_senders_365d": 3,
               "n_confirmed_payers_365d": 1, "share_cash_pickup_365d": 0.5, "region": "PH-NCR",
               "is_hub": False},
    }  # fmt: skip
    members = {"EX1": "KH", "P1": "KF", "P2": "KF"}
    return pd.DataFrame([{"counterparty_id": p, "cluster_id": k, **facts[k]} for p, k in members.items()])


def _case(hub: bool = True) -> dict[str, Any]:
    reasons = [
        {"code": code(f), "feature": f, "text": f, "contribution": 0.3, "value": 1.0}
        for f in (*CITED, "share_p2p_keyword_90d")
    ]
    payers = pd.DataFrame(
        [("KH", "c9"), ("KH", "c6"), ("KF", "c9"), ("KF", "c5")], columns=["cluster_id", "customer_id"]
    )
    draft = _draft(
        _rows(), reasons=reasons, clusters=_clusters(hub), cluster_payers=payers, case_ids={"c5": OTHER_CASE}
    )
    assert [t["txn_id"] for t in draft["transactions"]] == ["r1", "r2", "c1"]  # the set-up holds
    return draft


@pytest.fixture(scope="module")
def forms() -> dict[str, str]:
    return {name: body.decode() for name, body in case.render_forms(_case(), goaml.load_config()).items()}


def _goaml_to(xml: str) -> dict[str, etree._Element]:
    doc = etree.fromstring(xml.encode())
    assert goaml.test_schema().validate(etree.ElementTree(doc)), goaml.test_schema().error_log
    return {t.findtext("transactionnumber"): t.find("t_to") for t in doc.xpath("/report/transaction")}


def _fintrac_payees(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    definitions = {d["refId"]: d for d in report["definitions"]}
    return {
        t["suspiciousTransactionDetails"]["reportingEntityTransactionReference"]: definitions[
            t["completingActions"][0]["beneficiaries"][0]["refId"]
        ]
        for t in report["transactions"]
    }


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        ("FLORES, Marites", ("Marites", "FLORES")),  # family name first, before the comma
        ("DELA CRUZ, Juan Miguel", ("Juan Miguel", "DELA CRUZ")),  # both parts of several words
        ("  Flores ,  Marites  ", ("Marites", "Flores")),  # spacing as typed
        ("Marites Flores", ("Marites", "Flores")),  # no comma: the last word is the family name
        ("FLORES,", ("", "FLORES")),  # nothing after the comma: one name, the family name
        ("", ("", "")),
    ],
)
def test_split_name_reads_the_comma_form(recorded: str, expected: tuple[str, str]):
    assert fincen.split_name(recorded) == expected


def test_comma_name_is_given_and_family_name_in_goaml_and_fintrac(forms):
    to = _goaml_to(forms["goaml_str.xml"])
    person = to["r1"].find("to_person")
    assert (person.findtext("first_name"), person.findtext("last_name")) == ("Marites", "FLORES")
    payees = _fintrac_payees(json.loads(forms["fintrac_str.json"]))
    assert (payees["r1"]["givenName"], payees["r1"]["surname"]) == ("Marites", "FLORES")
    assert (payees["r2"]["givenName"], payees["r2"]["surname"]) == ("Angelo", "Flores")


def test_exchange_in_a_hub_cluster_is_an_entity_in_goaml_and_fintrac(forms):
    to = _goaml_to(forms["goaml_str.xml"])
    (account,) = to["c1"].xpath("to_account")
    assert account.findtext("account") == "bc1qexample"
    assert account.xpath("t_entity/name/text()") == ["Coinbase"]
    assert account.findtext("t_entity/business") == "virtual currency exchange (paid by many senders)"
    assert not to["c1"].xpath(".//first_name | .//signatory")
    report = json.loads(forms["fintrac_str.json"])
    payee = _fintrac_payees(report)["c1"]
    assert payee["typeCode"] == fintrac.ENTITY and payee["nameOfEntity"] == "Coinbase"
    assert "surname" not in payee
    (c1,) = [
        t
        for t in report["transactions"]
        if t["suspiciousTransactionDetails"]["reportingEntityTransactionReference"] == "c1"
    ]
    assert c1["completingActions"][0]["details"]["account"]["holders"][0]["typeCode"] == 2
    assert c1["completingActions"][0]["beneficiaries"][0]["typeCode"] == fintrac.ENTITY


def test_the_same_payee_outside_a_hub_stays_a_person():
    # Control: without the hub flag nothing says the wallet's holder is a business.
    draft = _case(hub=False)
    assert goaml.hub_payees(draft) == frozenset()
    assert goaml.hub_payees(_case(hub=True)) == frozenset({"EX1"})
    to = _goaml_to(goaml.build(draft, goaml.load_config())[0].decode())
    assert to["c1"].xpath("to_account/signatory/t_person/last_name/text()") == ["Coinbase"]
    assert _fintrac_payees(json.loads(fintrac.build(draft)))["c1"]["typeCode"] == fintrac.PERSON


def test_nca_writes_no_reference_for_an_absent_one_and_unknown_only_for_subject_fields(forms):
    lines = forms["nca_sar.txt"].splitlines()
    payments = [line for line in lines if line.startswith("2025-02-")]
    assert [line.rsplit(" | ", 1)[1] for line in payments] == ["(no reference)", "school fees", "gift"]
    assert "Devices: UNKNOWN" in lines  # a subject field not held keeps the glossary's UNKNOWN
    assert not any(line.endswith("| UNKNOWN") for line in payments)


def _narratives(forms: dict[str, str]) -> dict[str, str]:
    """The narrative text each regulator receives."""
    fincen_doc = etree.fromstring(forms["fincen_sar.xml"].encode())
    goaml_doc = etree.fromstring(forms["goaml_str.xml"].encode())
    austrac_doc = etree.fromstring(forms["austrac_smr.xml"].encode())
    return {
        "fincen": "".join(fincen_doc.xpath("//*[local-name()='ActivityNarrativeText']/text()")),
        "goaml": goaml_doc.findtext("reason"),
        "austrac": "".join(austrac_doc.xpath("//*[local-name()='groundsForSuspicion']/text()")),
        "fintrac": json.loads(forms["fintrac_str.json"])["detailsOfSuspicion"][
            "descriptionOfSuspiciousActivity"
        ],
        "nca": forms["nca_sar.txt"],
    }


def test_each_regulator_cites_its_own_guidance(forms):
    texts = _narratives(forms)
    assert "described in FinCEN notice FIN-2021-NTC3 (key term OCSE-FIN-2021-NTC3)" in texts["fincen"]
    assert texts["fincen"].startswith("OCSE-FIN-2021-NTC3.\n\n")
    assert texts["fincen"].rstrip().endswith("Key term: OCSE-FIN-2021-NTC3.")
    assert "AUSTRAC's financial crime guide on OCSE" in texts["austrac"]
    assert "FINTRAC's operational alert on laundering the proceeds of online child sexual" in texts["fintrac"]
    assert texts["fintrac"].rstrip().endswith("Project SHADOW.")
    assert "reported under NCA SAR glossary code XXV3XX (risk to children)" in texts["nca"]
    assert "Glossary codes: XXV3XX XXVAXX." in texts["nca"]
    for form in ("austrac", "fintrac", "nca", "goaml"):
        assert "FinCEN" not in texts[form] and "OCSE-FIN-2021-NTC3" not in texts[form], form


def test_nca_asks_for_999_and_austrac_leads_with_aud(forms):
    risk = next(line for line in forms["nca_sar.txt"].splitlines() if line.startswith("IMMEDIATE RISK CHECK"))
    assert "call the police on 999 at once" in risk and "911" not in risk
    assert narrative.EMERGENCY == {"nca": "999", "austrac": "000", "fintrac": "911", "fincen": "911"}
    # USD 125.00 at 0.625 USD per AUD: AUD 200.00, first; then the currency sent.
    assert austrac.total_aud(_case()) == 200
    assert (
        "totalling 200.00 AUD, each payment converted at the rate of its day (in the currencies sent: "
        "125.00 USD in 3 payments)" in _narratives(forms)["austrac"]
    )


def test_regulator_narratives_name_no_cluster_ids_other_cases_or_draft_line(forms):
    draft = json.loads(forms["draft.json"])
    assert {c["cluster_id"] for c in draft["clusters"]} == {"KF", "KH"}
    # The investigator's version keeps them (the check can fail).
    internal = narrative.narrative(draft)
    assert "payee cluster KF" in internal and OTHER_CASE in internal
    for form, text in _narratives(forms).items():
        assert not re.search(r"\bK[FH]\b", text), form
        assert OTHER_CASE not in text and "DRAFT prepared" not in text, form
        assert "Internal reference: case" not in text, form
        assert "Payee network 1: " in text and "payee network 1" in text, form
    # The filer's own reference only where a form has a field for it.
    case_id = draft["case_id"]
    assert case_id not in _narratives(forms)["goaml"] and case_id not in forms["fincen_sar.xml"]
    assert [line for line in forms["nca_sar.txt"].splitlines() if case_id in line] == [
        f"Internal reference: {case_id}"
    ]
    assert json.loads(forms["fintrac_str.json"])["reportDetails"]["reportingEntityReportReference"] == case_id
    assert forms["austrac_smr.xml"].count(case_id) == 1  # reReportRef
