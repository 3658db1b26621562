"""goAML STR: local-currency conversion at the recorded rate, who is an account, an entity or a person,
ids in their own elements, the reporting-entity id, and the strict test schema."""

from __future__ import annotations

import json
from datetime import date, datetime
from importlib import resources

import pytest
from lxml import etree
from test_forms import _draft, _travel_rows, _txn

from bantay.sar import fintrac, fx, goaml


def _aed_config() -> dict:
    return {**goaml.load_config(), "currency_code_local": "AED"}


def _rates(*rows: tuple[str, str, float]) -> list[dict]:
    return [{"date": d, "currency": c, "usd_per_unit": r, "rate_date": d} for d, c, r in rows]


def _report(xml: bytes) -> etree._Element:
    doc = etree.fromstring(xml)
    assert goaml.test_schema().validate(etree.ElementTree(doc)), goaml.test_schema().error_log
    return doc


def test_amount_local_is_converted_at_the_rate_of_the_day():
    rows = [
        _txn("g1", datetime(2025, 2, 1, 10, 0), "50.00"),  # USD 50 at 0.2723 USD per AED: 183.62 AED
        _txn("g2", datetime(2025, 2, 2, 10, 0), "35.50", currency="GBP", amount_reporting=44.38),
    ]
    draft = _draft(rows)
    # GBP 35.50 x 1.25 USD per GBP / 0.2730 USD per AED = 162.545... -> 162.55 AED
    draft["fx_rates"] = _rates(
        ("2025-02-01", "AED", 0.2723), ("2025-02-02", "AED", 0.2730), ("2025-02-02", "GBP", 1.25)
    )
    doc = _report(goaml.build(draft, _aed_config())[0])
    assert doc.findtext("currency_code_local") == "AED"
    assert doc.xpath("/report/transaction/amount_local/text()") == ["183.62", "162.55"]
    (first, second) = doc.xpath("/report/transaction/t_from_my_client/from_foreign_currency")
    assert [
        first.findtext(n) for n in ("foreign_currency_code", "foreign_amount", "foreign_exchange_rate")
    ] == [
        "USD",
        "50.00",
        "3.672420",  # 1 / 0.2723
    ]
    assert (
        second.findtext("foreign_amount") == "35.50"
        and second.findtext("foreign_exchange_rate") == "4.578755"
    )


def test_a_missing_local_rate_is_one_clear_error():
    draft = _draft([_txn("g1", datetime(2025, 2, 1, 10, 0), "50.00")])
    with pytest.raises(fx.FxRateError, match="no AED rate on or before 2025-02-01"):
        goaml.build(draft, _aed_config())


def test_reporting_currency_as_local_keeps_the_reported_amount():
    draft = _draft([_txn("g1", datetime(2025, 2, 1, 10, 0), "35.50", currency="GBP", amount_reporting=44.38)])
    doc = _report(goaml.build(draft, goaml.load_config())[0])
    assert doc.findtext("currency_code_local") == "USD"
    assert doc.xpath("/report/transaction/amount_local/text()") == ["44.38"]
    # The recorded GBP rate of the day (35.50 x 1.25 = 44.375, reported as 44.38).
    assert doc.xpath("string(//from_foreign_currency/foreign_exchange_rate)") == "1.250000"


def test_subject_account_is_from_account_and_passport_is_not_ssn():
    draft = _draft([_txn("g1", datetime(2025, 2, 1, 10, 0), "50.00")])
    doc = _report(goaml.build(draft, goaml.load_config())[0])
    (account,) = doc.xpath("//t_from_my_client/from_account")
    assert account.findtext("account") == "A-c9" and account.findtext("client_number") == "c9"
    assert account.findtext("institution_code") == "42"  # the rentity_id when no institution_code is set
    (holder,) = account.xpath("signatory/t_person")
    assert holder.findtext("passport_number") == "PA1234567" and holder.findtext("passport_country") == "AU"
    assert holder.findtext("identification/type") == "PASSP"
    assert holder.findtext("identification/number") == "PA1234567"
    assert not doc.xpath("//ssn")
    assert not doc.xpath("//from_person")


def test_business_payee_is_an_entity_related_spend_is_not_reported_and_payee_ids_are():
    rows = [
        *_travel_rows(),
        # A wallet top-up to a business in the Philippines (MCC 6540): a payment abroad, so in the suspicious
        # set, and a business: an entity, never split into first and last names.
        _txn(
            "b4",
            datetime(2025, 2, 19, 8, 0),
            "25.00",
            channel="wallet",
            mcc="6540",
            counterparty_id="TOPUP",
            counterparty_name="Example Wallet Top-up Inc",
        ),
        # A card payment to a token seller (O8): supporting evidence, never a reported transaction.
        _txn(
            "m5",
            datetime(2025, 2, 21, 8, 0),
            "15.00",
            channel="card",
            mcc="5967",
            counterparty_id="TOK",
            counterparty_name="CamSite Tokens Ltd",
            counterparty_country="GB",
            counterparty_city=None,
            is_p2p=False,
            is_round=False,
            is_related_spend=True,
        ),
        _txn(
            "w1",
            datetime(2025, 2, 21, 9, 0),
            "40.00",
            channel="wallet",
            counterparty_id="P7",
            counterparty_name="Ana Reyes",
            counterparty_account="09171234567",
        ),
    ]
    draft = _draft(rows)
    assert [t["txn_id"] for t in draft["supporting_transactions"]] == ["m5"]
    draft["payees"] = [
        {**p, "phone": "+639171234567"} if p["counterparty_id"] == "P7" else p for p in draft["payees"]
    ]
    doc = _report(goaml.build(draft, goaml.load_config())[0])
    by_id = {t.findtext("transactionnumber"): t for t in doc.xpath("/report/transaction")}
    # Travel (x3) and the related card spending (m5) are never reported.
    assert sorted(by_id) == ["b4", "w1", "x1", "x2"]
    assert "CamSite" not in etree.tostring(doc.find("transaction")).decode()
    (business,) = by_id["b4"].xpath("t_to/to_entity")
    assert (
        business.findtext("name") == "Example Wallet Top-up Inc"
        and business.findtext("business") == "merchant category 6540"
    )
    assert not by_id["b4"].xpath("t_to//first_name")
    (wallet,) = by_id["w1"].xpath("t_to/to_account")
    assert wallet.findtext("account") == "09171234567" and wallet.findtext("non_bank_institution") == "true"
    (payee,) = wallet.xpath("signatory/t_person")
    assert (payee.findtext("first_name"), payee.findtext("last_name")) == ("Ana", "Reyes")
    assert payee.findtext("phones/phone/tph_country_prefix") == "63"
    assert payee.findtext("phones/phone/tph_number") == "9171234567"
    # A person paid without an account on record stays a person.
    assert by_id["x1"].xpath("t_to/to_person/last_name/text()") == ["Ramos"]


@pytest.mark.parametrize("value", ["0", "", None, "-3", "abc"])
def test_rentity_id_must_be_at_least_one(value):
    draft = _draft([_txn("g1", datetime(2025, 2, 1, 10, 0), "50.00")])
    draft["institution"]["goaml_reporting_entity_id"] = value
    with pytest.raises(goaml.GoamlConfigError, match="rentity_id"):
        goaml.build(draft, goaml.load_config())


def test_test_schema_is_strict_and_a_configured_schema_is_also_applied(tmp_path):
    text = resources.files("bantay.sar").joinpath("schemas", goaml.TEST_SCHEMA_FILE).read_text("utf-8")
    xs = "{http://www.w3.org/2001/XMLSchema}"
    tree = etree.fromstring(text.encode("utf-8"))
    assert not [e for e in tree.iter() if e.tag in (f"{xs}any", f"{xs}anyAttribute", f"{xs}openContent")]
    draft = _draft([_txn("g1", datetime(2025, 2, 1, 10, 0), "50.00")])
    xml, _ = goaml.build(draft, goaml.load_config())
    doc = etree.fromstring(xml)
    # Out of order: amount_local moved before transmode_code.
    txn = doc.find("transaction")
    txn.insert(list(txn).index(txn.find("transmode_code")), txn.find("amount_local"))
    assert not goaml.test_schema().validate(etree.ElementTree(doc))
    # A configured FIU schema is applied as well (here the test schema itself, written elsewhere).
    copy = tmp_path / "fiu.xsd"
    copy.write_text(text, encoding="utf-8")
    assert goaml.build(draft, goaml.load_config(), copy)[0] == xml


def test_rates_for_takes_the_days_rate_or_the_latest_before():
    import pandas as pd

    table = pd.DataFrame(
        {
            "rate_date": [date(2025, 2, 1), date(2025, 2, 4), date(2025, 2, 3)],
            "currency": ["GBP", "GBP", "AED"],
            "usd_per_unit": [1.2, 1.3, 0.27],
        }
    )
    txns = [{"booked_at": "2025-02-03T10:00:00Z", "currency": "GBP"}]
    # GBP: no rate on 02-03, so the one of 02-01 (never the later 02-04); AED on the day; no AUD at all.
    assert fx.rates_for(txns, table, {"AED", "AUD", "USD"}) == [
        {"date": "2025-02-03", "currency": "AED", "usd_per_unit": 0.27, "rate_date": "2025-02-03"},
        {"date": "2025-02-03", "currency": "GBP", "usd_per_unit": 1.2, "rate_date": "2025-02-01"},
    ]


def test_money_transfer_mcc_to_a_person_is_a_person_in_goaml_and_fintrac():
    rows = [
        # A remittance through a money-transfer operator (MCC 4829) to a person without an account: the MCC
        # names the service, so the payee stays a person, first and last name.
        _txn("r1", datetime(2025, 2, 3, 10, 0), "45.00", mcc="4829", counterparty_name="Maria Santos"),
        # The same to a person's account: the holder is a signatory person, not an entity.
        _txn(
            "r2",
            datetime(2025, 2, 4, 10, 0),
            "55.00",
            channel="bank_transfer",
            mcc="4829",
            counterparty_id="P5",
            counterparty_name="Rosa Cruz",
            counterparty_account="PH12BANK0001",
        ),
        # A stored-value load (MCC 6540) is bought from a business: still an entity.
        _txn(
            "b4",
            datetime(2025, 2, 5, 10, 0),
            "25.00",
            channel="wallet",
            mcc="6540",
            counterparty_id="TOPUP",
            counterparty_name="Example Wallet Top-up Inc",
        ),
    ]
    assert [goaml.is_business(r) for r in rows] == [False, False, True]
    # A card payment is a purchase whatever its MCC.
    assert goaml.is_business({**rows[0], "channel": "card"})
    draft = _draft(rows)
    doc = _report(goaml.build(draft, goaml.load_config())[0])
    by_id = {t.findtext("transactionnumber"): t for t in doc.xpath("/report/transaction")}
    (person,) = by_id["r1"].xpath("t_to/to_person")
    assert (person.findtext("first_name"), person.findtext("last_name")) == ("Maria", "Santos")
    assert not by_id["r1"].xpath("t_to//to_entity | t_to//t_entity")
    (holder,) = by_id["r2"].xpath("t_to/to_account/signatory/t_person")
    assert (holder.findtext("first_name"), holder.findtext("last_name")) == ("Rosa", "Cruz")
    assert not by_id["r2"].xpath("t_to//t_entity")
    assert by_id["b4"].xpath("t_to/to_entity/name/text()") == ["Example Wallet Top-up Inc"]
    report = json.loads(fintrac.build(draft))
    kinds = {
        t["suspiciousTransactionDetails"]["reportingEntityTransactionReference"]: t["completingActions"][0][
            "beneficiaries"
        ][0]["typeCode"]
        for t in report["transactions"]
    }
    assert kinds == {"r1": fintrac.PERSON, "r2": fintrac.PERSON, "b4": fintrac.ENTITY}
