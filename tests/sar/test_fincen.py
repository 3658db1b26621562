"""FinCEN SAR XML: every name shape, item 16 TIN or unknown, the subject's accounts, field 43, narrative."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from lxml import etree
from test_forms import _customer, _draft, _txn

from bantay.sar import case, fincen

NS = {"fc2": fincen.NS}


def _subject(xml: bytes) -> etree._Element:
    doc = etree.fromstring(xml)
    assert fincen.schema().validate(etree.ElementTree(doc)), fincen.schema().error_log
    (party,) = doc.xpath("//fc2:Activity/fc2:Party[fc2:ActivityPartyTypeCode='33']", namespaces=NS)
    return party


def _children(element: etree._Element) -> list[str]:
    return [etree.QName(child).localname for child in element]


@pytest.mark.parametrize(
    ("full_name", "expected"),
    [
        # (name as held in KYC, children of PartyName in order)
        ("Peter Sample", ["PartyNameTypeCode", "RawEntityIndividualLastName", "RawIndividualFirstName"]),
        ("Madonna", ["FirstNameUnknownIndicator", "PartyNameTypeCode", "RawEntityIndividualLastName"]),
        ("", ["EntityLastNameUnknownIndicator", "FirstNameUnknownIndicator", "PartyNameTypeCode"]),
        ("   \t ", ["EntityLastNameUnknownIndicator", "FirstNameUnknownIndicator", "PartyNameTypeCode"]),
        (None, ["EntityLastNameUnknownIndicator", "FirstNameUnknownIndicator", "PartyNameTypeCode"]),
        # Only characters XML cannot carry: nothing is left once cleaned.
        ("\x01\x02", ["EntityLastNameUnknownIndicator", "FirstNameUnknownIndicator", "PartyNameTypeCode"]),
        (" Li\u202e ", ["FirstNameUnknownIndicator", "PartyNameTypeCode", "RawEntityIndividualLastName"]),
    ],
)
def test_subject_name_validates_for_every_name_shape(full_name: Any, expected: list[str]):
    # Before the fix a one-word, blank or missing name put PartyNameTypeCode before the indicators.
    draft = _draft(
        [_txn("n1", datetime(2025, 2, 1, 10, 0), "10.00")], customer=_customer(full_name=full_name)
    )
    xml, _ = fincen.build(draft)  # raises FincenSchemaError when the XSD rejects it
    (name,) = _subject(xml).xpath("fc2:PartyName", namespaces=NS)
    assert _children(name) == expected


def test_passport_gives_item_18_id_and_tin_unknown():
    draft = _draft([_txn("p1", datetime(2025, 2, 1, 10, 0), "10.00")])
    idents = _subject(fincen.build(draft)[0]).xpath("fc2:PartyIdentification", namespaces=NS)
    assert [_children(i) for i in idents] == [
        ["OtherIssuerCountryText", "PartyIdentificationNumberText", "PartyIdentificationTypeCode"],
        ["TINUnknownIndicator"],
    ]
    assert idents[0].findtext(f"{{{fincen.NS}}}PartyIdentificationTypeCode") == "6"  # passport
    assert idents[0].findtext(f"{{{fincen.NS}}}PartyIdentificationNumberText") == "PA1234567"
    assert idents[1].findtext(f"{{{fincen.NS}}}TINUnknownIndicator") == "Y"


@pytest.mark.parametrize(("id_type", "code"), [("ssn", "1"), ("ITIN", "1"), ("EIN", "2")])
def test_taxpayer_number_is_item_16_tin(id_type: str, code: str):
    customer = _customer(id_type=id_type, id_number="123456789")
    draft = _draft([_txn("s1", datetime(2025, 2, 1, 10, 0), "10.00")], customer=customer)
    idents = _subject(fincen.build(draft)[0]).xpath("fc2:PartyIdentification", namespaces=NS)
    assert len(idents) == 1
    assert idents[0].findtext(f"{{{fincen.NS}}}PartyIdentificationTypeCode") == code
    assert idents[0].findtext(f"{{{fincen.NS}}}PartyIdentificationNumberText") == "123456789"
    assert not idents[0].xpath("fc2:TINUnknownIndicator", namespaces=NS)


def test_missing_id_is_tin_unknown():
    customer = _customer(id_type=None, id_number=None)
    draft = _draft([_txn("u1", datetime(2025, 2, 1, 10, 0), "10.00")], customer=customer)
    idents = _subject(fincen.build(draft)[0]).xpath("fc2:PartyIdentification", namespaces=NS)
    assert [_children(i) for i in idents] == [["TINUnknownIndicator"]]


def test_subject_account_is_associated_through_party_41():
    draft = _draft([_txn("a1", datetime(2025, 2, 1, 10, 0), "10.00")])
    assert draft["subject"]["account_ids"] == ["A-c9"]
    subject = _subject(fincen.build(draft)[0])
    (association,) = subject.xpath("fc2:PartyAccountAssociation", namespaces=NS)
    assert association.findtext(f"{{{fincen.NS}}}PartyAccountAssociationTypeCode") == "7"
    (holder,) = association.xpath("fc2:Party", namespaces=NS)
    assert holder.findtext(f"{{{fincen.NS}}}ActivityPartyTypeCode") == "41"
    assert holder.xpath(
        "string(fc2:PartyIdentification/fc2:PartyIdentificationNumberText)", namespaces=NS
    ) == ("000000000")
    assert holder.xpath("fc2:Account/fc2:AccountNumberText/text()", namespaces=NS) == ["A-c9"]
    assert holder.xpath("string(fc2:Account/fc2:PartyAccountAssociation/*)", namespaces=NS) == "5"


def test_field_43_lists_only_public_ips_of_the_reported_payments():
    when = datetime(2025, 2, 1, 10, 0)
    addresses = {
        "i1": "127.0.0.1",  # loopback
        "i2": "10.1.2.3",  # private
        "i3": "192.168.0.7",  # private
        "i4": "169.254.1.1",  # link-local
        "i5": "100.64.12.1",  # CGNAT shared space
        "i6": "fe80::1",  # IPv6 link-local
        "i7": "not-an-ip",  # garbage
        "i8": "8.8.4.4",  # public
        "i9": "2001:4860:4860::8888",  # public IPv6
    }
    rows = [
        _txn(t, when.replace(minute=n), "10.00", ip_address=ip) for n, (t, ip) in enumerate(addresses.items())
    ]
    xml, _ = fincen.build(_draft(rows))
    doc = etree.fromstring(xml)
    assert fincen.schema().validate(etree.ElementTree(doc))
    assert sorted(doc.xpath("//fc2:IPAddressText/text()", namespaces=NS)) == [
        "2001:4860:4860::8888",
        "8.8.4.4",
    ]
    assert doc.xpath(
        "//fc2:ActivityIPAddress[fc2:IPAddressText='8.8.4.4']/fc2:ActivityIPAddressTimeStampText/text()",
        namespaces=NS,
    ) == ["10:07:00"]


def test_narrative_lists_each_payment_with_payee_identifiers():
    rows = [
        _txn("q1", datetime(2025, 2, 1, 10, 0), "50.00", counterparty_account="PH-WALLET-0917"),
        _txn("q2", datetime(2025, 2, 3, 22, 15), "35.50", currency="GBP", amount_reporting=44.38),
    ]
    draft = _draft(rows)
    draft["payees"][0]["phone"] = "+639171234567"
    text = "".join(
        etree.fromstring(fincen.build(draft)[0]).xpath("//fc2:ActivityNarrativeText/text()", namespaces=NS)
    )
    assert "transaction table" not in text
    assert "2025-02-01T10:00:00Z; 50.00 USD; 50.00 USD; remittance; to Lita Ramos, PH, Quezon City, " in text
    assert "account/wallet PH-WALLET-0917" in text and "phone +639171234567" in text
    assert "2025-02-03T22:15:00Z; 35.50 GBP; 44.38 USD;" in text and "; q2" in text


def test_demo_institution_is_refused_without_the_demo_setting():
    demo = {"tin": "000000000", "fincen_tcc": "TBSATEST", "goaml_reporting_entity_id": "0"}
    with pytest.raises(case.DemoInstitutionError, match="demo institution's TIN 000000000") as error:
        case.institution_for_forms(demo, demo=False)
    assert "\n" not in str(error.value) and "--demo" in str(error.value)
    # With the setting the files are written; goAML still gets an id of at least 1.
    assert case.institution_for_forms(demo, demo=True)["goaml_reporting_entity_id"] == case.DEMO_RENTITY_ID
    real = {"tin": "123456789", "fincen_tcc": "PBSA1234", "goaml_reporting_entity_id": "4711"}
    assert case.institution_for_forms(real, demo=False) == real
    with pytest.raises(case.DemoInstitutionError, match="rentity_id 0"):
        case.institution_for_forms({**real, "goaml_reporting_entity_id": "0"}, demo=False)


def test_cli_draft_refuses_the_demo_institution_in_one_line(tmp_path, monkeypatch, capsys):
    from bantay import cli, settings

    monkeypatch.delenv("BANTAY_DEMO", raising=False)
    args = ["draft", "--ledger", str(tmp_path), "--out", str(tmp_path / "out"), "--as-of", "2025-03-01"]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bantay: error: refusing to write regulator files")
    assert "BANTAY_DEMO=1" in err and not (tmp_path / "out" / "cases").exists()
    # The flag and the environment both turn the demo setting on.
    assert settings.load(demo=True).demo
    monkeypatch.setenv("BANTAY_DEMO", "1")
    assert settings.load().demo
