"""AUSTRAC SMR and FINTRAC STR from the same draft: offence and reasons, AUD and CAD amounts at the rate
of the day, Project SHADOW, the parties, and structure checks that can fail."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from lxml import etree
from test_forms import _draft, _travel_rows, _txn

from bantay.sar import austrac, case, fintrac, goaml

NS = {"a": austrac.NS}


def _merchant_rows() -> list[dict]:
    """Two payments to the Philippines and a wallet top-up to a business there: all three are reported; a
    card payment to a token seller (O8) is supporting evidence, never reported.

    (An airline ticket would not be either: travel is never in the suspicious set.)
    """
    top_up = _txn(
        "x3",
        datetime(2025, 2, 20, 9, 0),
        "812.40",
        channel="wallet",
        mcc="6540",
        counterparty_id="TOPUP",
        counterparty_name="Example Top-up Inc",
        counterparty_city=None,
        is_round=False,
    )
    token_seller = _txn(
        "x4",
        datetime(2025, 2, 21, 9, 0),
        "35.00",
        channel="card",
        mcc="5967",
        counterparty_id="TOK",
        counterparty_name="Example Tokens",
        counterparty_country="AU",
        counterparty_city=None,
        is_p2p=False,
        is_round=False,
        is_related_spend=True,
    )
    return [*_travel_rows()[:2], top_up, token_seller]


def test_fintrac_str_carries_project_shadow_and_cad_values():
    draft = _draft(_merchant_rows())
    report = json.loads(fintrac.build(draft))
    assert report["reportDetails"]["reportTypeCode"] == 102
    assert report["reportDetails"]["reportingEntityReportReference"] == draft["case_id"]
    suspicion = report["detailsOfSuspicion"]
    assert suspicion["publicPrivatePartnershipProjectNameCodes"] == [8]
    assert suspicion["suspicionTypeCode"] == 1
    assert suspicion["descriptionOfSuspiciousActivity"].startswith("#ProjectShadow. Suspected online child")
    # USD at 0.80 USD per CAD: 50 -> 62.50, 60 -> 75.00, 812.40 -> 1,015.50.
    completing = [t["completingActions"][0]["details"] for t in report["transactions"]]
    assert [c["valueInCanadianDollars"] for c in completing] == ["62.50", "75.00", "1015.50"]
    assert [c["exchangeRate"] for c in completing] == ["1.250000"] * 3
    assert fintrac.total_cad(draft) == Decimal("1153.00")
    definitions = {d["refId"]: d for d in report["definitions"]}
    assert definitions["subject"]["typeCode"] == 5 and definitions["subject"]["surname"] == "Sample"
    beneficiaries = [t["completingActions"][0]["beneficiaries"][0] for t in report["transactions"]]
    merchant = definitions[beneficiaries[2]["refId"]]
    assert beneficiaries[2]["typeCode"] == 4 and merchant["nameOfEntity"] == "Example Top-up Inc"
    # The token seller's card payment (x4) is supporting evidence only: in no transaction, no definition.
    assert [
        t["suspiciousTransactionDetails"]["reportingEntityTransactionReference"]
        for t in report["transactions"]
    ] == ["x1", "x2", "x3"]
    assert "Example Tokens" not in json.dumps(report["definitions"])
    assert definitions[beneficiaries[0]["refId"]]["surname"] == "Ramos"
    details = report["transactions"][0]["suspiciousTransactionDetails"]
    assert details == {
        "attemptedTransactionIndicator": False,
        "dateOfTransaction": "2025-01-10",
        "timeOfTransaction": "11:00:00+00:00",
        "reportingEntityTransactionReference": "x1",
    }


def test_fintrac_structure_check_fails_on_a_broken_report():
    draft = _draft(_travel_rows()[:1])
    report = json.loads(fintrac.build(draft))
    del report["detailsOfSuspicion"]["publicPrivatePartnershipProjectNameCodes"]
    with pytest.raises(fintrac.FintracStructureError, match="detailsOfSuspicion"):
        fintrac.validate(report, draft["case_id"])
    report = json.loads(fintrac.build(draft))
    report["detailsOfSuspicion"]["publicPrivatePartnershipProjectNameCodes"] = [4]  # no project 4
    with pytest.raises(fintrac.FintracStructureError, match="publicPrivatePartnershipProjectNameCodes"):
        fintrac.validate(report, draft["case_id"])


def test_austrac_smr_gives_og_reasons_and_aud_totals():
    draft = _draft(_merchant_rows())
    xml, _ = austrac.build(draft)
    doc = etree.fromstring(xml)
    assert austrac.schema().validate(etree.ElementTree(doc))
    assert doc.xpath("string(//a:additionalDetails/a:offence)", namespaces=NS) == "OG"
    assert doc.xpath("//a:suspReasons/a:suspReason/text()", namespaces=NS) == ["UA"]
    assert doc.xpath("//a:suspReasons/a:suspReasonOther/text()", namespaces=NS) == [
        "suspected online child sexual exploitation (OCSE)"
    ]
    # USD at 0.625 USD per AUD: 50 -> 80.00, 60 -> 96.00, 812.40 -> 1,299.84; total 1,475.84.
    assert doc.xpath("//a:txnDetail/a:txnAmount/text()", namespaces=NS) == ["80.00", "96.00", "1299.84"]
    assert doc.xpath("string(//a:grandTotal)", namespaces=NS) == "1475.84"
    assert austrac.total_aud(draft) == Decimal("1475.84")
    assert doc.xpath("//a:txnDetail/a:foreignCurr/a:amount/text()", namespaces=NS) == [
        "50.00",
        "60.00",
        "812.40",
    ]
    # Transfers to the Philippines are international transfers out; the token seller's card payment (x4,
    # AUD 56.00) is supporting evidence only.
    assert doc.xpath("//a:txnDetail/a:txnType/text()", namespaces=NS) == ["IT", "IT", "IT"]
    assert doc.xpath("//a:txnDetail/a:txnRefNo/text()", namespaces=NS) == ["x1", "x2", "x3"]
    assert doc.xpath("//a:designatedSvc/text()", namespaces=NS) == ["ACC_DEP", "DCE", "RS"]
    grounds = doc.xpath("string(//a:groundsForSuspicion)", namespaces=NS)
    assert grounds.startswith("Suspected online child sexual exploitation (OCSE).")
    # Every payee reference points at an otherPerson; the subject is the sender.
    others = {o.get("id"): o for o in doc.xpath("//a:otherPerson", namespaces=NS)}
    refs = doc.xpath("//a:payee/a:sameAsOtherPerson/@refId", namespaces=NS)
    assert [others[r].findtext(f"{{{austrac.NS}}}fullName") for r in refs] == [
        "Lita Ramos",
        "Jun Dela Cruz",
        "Example Top-up Inc",
    ]
    (subject,) = doc.xpath("//a:suspPerson", namespaces=NS)
    assert set(doc.xpath("//a:senderDrawerIssuer/a:sameAsSuspPerson/@refId", namespaces=NS)) == {
        subject.get("id")
    }
    assert subject.xpath("string(a:identification/a:type)", namespaces=NS) == "P"
    assert subject.xpath("a:account/a:number/text()", namespaces=NS) == ["A-c9"]


def test_austrac_payee_wallet_phone_and_public_ip():
    rows = [
        _txn(
            "w1",
            datetime(2025, 2, 1, 22, 0),
            "40.00",
            channel="crypto",
            counterparty_account="bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh",
            ip_address="8.8.8.8",
        ),
        _txn(
            "w2",
            datetime(2025, 2, 2, 22, 0),
            "30.00",
            counterparty_id="P5",
            counterparty_account="PH-0917-555",
            ip_address="10.0.0.1",
        ),
    ]
    draft = _draft(rows)
    draft["payees"] = [{**p, "phone": "+639170000001"} for p in draft["payees"]]
    doc = etree.fromstring(austrac.build(draft)[0])
    assert doc.xpath("//a:otherPerson/a:digitalCurrencyWallet/text()", namespaces=NS) == [
        "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
    ]
    assert doc.xpath("//a:otherPerson/a:account/a:number/text()", namespaces=NS) == ["PH-0917-555"]
    assert doc.xpath("//a:otherPerson/a:phone/text()", namespaces=NS) == ["+639170000001"] * 2
    assert doc.xpath("//a:deviceIdentifier/a:identifier/text()", namespaces=NS) == ["8.8.8.8"]  # not 10.0.0.1


def test_austrac_structure_check_fails_on_a_broken_report():
    draft = _draft(_travel_rows()[:1])
    doc = etree.fromstring(austrac.build(draft)[0])
    offence = doc.xpath("//a:additionalDetails/a:offence", namespaces=NS)[0]
    offence.text = "OCSE"  # not an AUSTRAC offence code
    assert not austrac.schema().validate(etree.ElementTree(doc))


def test_render_forms_writes_the_five_regulator_files():
    forms = case.render_forms(_draft(_travel_rows()), goaml.load_config())
    assert {"fincen_sar.xml", "goaml_str.xml", "nca_sar.txt", "austrac_smr.xml", "fintrac_str.json"} <= set(
        forms
    )
    assert json.loads(forms["fintrac_str.json"])["detailsOfSuspicion"][
        "publicPrivatePartnershipProjectNameCodes"
    ] == [8]
