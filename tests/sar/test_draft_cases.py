"""The draft job end to end on a hand-made output root (real Spark, real files)."""

from __future__ import annotations

import csv
import json
import re
import stat
from datetime import UTC
from pathlib import Path

import pytest
from lxml import etree
from sar_world import AS_OF, GENERATED_AT, World, draft_settings, load_draft

from bantay.sar import build

C1 = build.case_id("c1", AS_OF)
C2 = build.case_id("c2", AS_OF)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_case_id_is_date_and_hash_prefix():
    # sha256("c1") starts with d0f631ca1d...: the id carries the date and no customer data.
    assert build.case_id("c1", AS_OF) == "C-20250301-d0f631ca1d"


def test_run_writes_one_private_folder_per_alert(drafted: Path):
    assert drafted.name == "as_of=2025-03-01"
    cases = sorted(p.name for p in drafted.iterdir() if p.is_dir())
    assert cases == sorted([C1, C2])  # c3 is not alerted
    assert _mode(drafted) == 0o700
    for name in cases:
        assert _mode(drafted / name) == 0o700
        files = sorted(p.name for p in (drafted / name).iterdir())
        assert files == [
            "austrac_smr.xml",
            "draft.html",
            "draft.json",
            "fincen_sar.xml",
            "fintrac_str.json",
            "goaml_str.xml",
            "nca_sar.txt",
        ]
        assert all(_mode(drafted / name / f) == 0o600 for f in files)
    for name in ("index.html", "geography.csv", "geography.png", "network.csv", "network.png"):
        assert _mode(drafted / name) == 0o600
    assert not (drafted.parent / "_staging").exists()


def test_build_draft_lists_transactions_behind_each_indicator(drafted: Path):
    draft = load_draft(drafted / C1)
    by_typology = {i["typology_id"]: i for i in draft["indicators"]}
    # Night 21:00-03:00 London time (GMT in February): t1 22:30, t2 23:00, t3 23:45; t4 is at noon.
    assert by_typology["O5"]["txn_ids"] == ["t1", "t2", "t3"]
    # References "school fees" and "gift"; "payment" and "thanks" are not keywords.
    assert by_typology["O7"]["txn_ids"] == ["t1", "t2"]
    # The card payment to a token seller (MCC 5967) is the related spend.
    assert by_typology["O8"]["txn_ids"] == ["t5"]
    # t2 and t3 are 45 minutes apart: a burst.
    assert by_typology["O12"]["txn_ids"] == ["t2", "t3"]
    assert by_typology["O5"]["window"] == {"days": 90, "from": "2024-12-01", "to": "2025-02-28"}
    assert by_typology["O5"]["amount_reporting"] == 143.75  # (50 + 40 + 25) GBP x 1.25


def test_build_draft_totals_window_and_payees(drafted: Path):
    draft = load_draft(drafted / C1)
    # t7 is older than 365 days, t6 is inbound, t8 an airline ticket, t9 the rent: none is in the case,
    # although the model cites the airline payment. t5 (the token seller) is supporting evidence only.
    assert [t["txn_id"] for t in draft["transactions"]] == ["t1", "t2", "t3", "t4"]
    assert draft["totals"]["by_currency"] == [{"currency": "GBP", "amount": 148.3, "n_transactions": 4}]
    # 62.50 + 50.00 + 31.25 + 41.63 (33.30 x 1.25 = 41.625, half up): the sum of the listed cents.
    assert draft["totals"]["reporting"]["amount"] == 185.38
    assert draft["totals"]["usd_amount"] == 185.38
    assert draft["activity"]["from"] == "2025-02-03"
    assert draft["activity"]["to"] == "2025-02-20"
    assert draft["activity"]["days_since_last"] == 9
    assert draft["activity"]["n_payees"] == 2
    assert [p["counterparty_id"] for p in draft["payees"]] == ["P1", "P2"]
    assert draft["subject"]["ip_addresses"][0]["ip_address"] == "203.0.113.5"  # used twice
    assert draft["model"] == {
        "internal_only": True,
        "version": "7",
        "score": 0.9134,
        "rank": 1,
        "reasons": draft["model"]["reasons"],
    }
    assert draft["institution"]["name"] == "Demo Bank (synthetic)"


def test_build_draft_links_other_customers_of_the_same_cluster(drafted: Path):
    c1, c2 = load_draft(drafted / C1), load_draft(drafted / C2)
    k1 = next(c for c in c1["clusters"] if c["cluster_id"] == "K1")
    assert k1["other_case_ids"] == [C2]  # c2 is alerted: named by case id
    assert k1["other_customer_ids"] == ["c3"]  # c3 is not alerted: by customer id only
    assert k1["n_other_customers"] == 2
    assert next(c for c in c2["clusters"] if c["cluster_id"] == "K1")["other_case_ids"] == [C1]
    assert c1["flags"]["linked_to_other_customers"] is True


def test_geography_and_network_reports(drafted: Path):
    with (drafted / "geography.csv").open() as handle:
        rows = {(r["level"], r["key"]): r for r in csv.DictReader(handle)}
    # PH: c1's four payments (148.30 GBP x 1.25 = 185.375 USD) and c2's 200.00 USD; GB: the card payment.
    assert rows[("destination_country", "PH")]["n_alerts"] == "2"
    assert rows[("destination_country", "PH")]["n_payments"] == "6"
    assert float(rows[("destination_country", "PH")]["amount_reporting"]) == 385.38
    # P1 and P3 are in cluster K1 (region Central Luzon); P2 is in Cebu City.
    assert float(rows[("ph_region", "Central Visayas")]["amount_reporting"]) == 91.63  # (40 + 33.30) x 1.25
    assert rows[("ph_region", "NCR")]["n_alerts"] == "0"
    assert rows[("sender_country", "US")]["n_payments"] == "2"
    with (drafted / "network.csv").open() as handle:
        network = list(csv.DictReader(handle))
    assert [(r["cluster_id"], r["n_alerted_customers"], r["case_ids"]) for r in network] == [
        ("K1", "2", ";".join(sorted([C1, C2])))
    ]
    assert (drafted / "network.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    index = (drafted / "index.html").read_text()
    assert index.index(C1) < index.index(C2)  # by score
    assert f'href="{C1}/draft.html"' in index


def test_fincen_file_carries_the_ocse_keys(drafted: Path):
    ns = {"fc2": "www.fincen.gov/base"}
    doc = etree.parse(str(drafted / C1 / "fincen_sar.xml"))
    assert doc.findtext(".//fc2:FilingInstitutionNotetoFinCEN", namespaces=ns) == "OCSE-FIN-2021-NTC3"
    assert doc.findtext(".//fc2:ActivityNarrativeText", namespaces=ns).startswith("OCSE-FIN-2021-NTC3")
    classification = doc.find(".//fc2:SuspiciousActivityClassification", namespaces=ns)
    assert [c.text for c in classification] == ["OCSE", "9999", "9"]
    # Field 43: public addresses only (203.0.113.5 is in a documentation range, not routable).
    assert doc.xpath("//fc2:IPAddressText/text()", namespaces=ns) == ["81.2.69.160"]
    assert doc.findtext(".//fc2:TotalSuspiciousAmountText", namespaces=ns) == "185"  # USD 185.38
    roles = doc.xpath("//fc2:Activity/fc2:Party/fc2:ActivityPartyTypeCode/text()", namespaces=ns)
    assert roles == ["35", "37", "30", "8", "34", "33"]
    assert doc.findtext(".//fc2:RawEntityIndividualLastName", namespaces=ns) == "Example"


def test_every_fincen_file_validates_against_the_xsd(drafted: Path):
    xsd = Path(build.__file__).parent / "schemas" / "EFL_SARXBatchSchema.xsd"
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    files = sorted(drafted.glob("*/fincen_sar.xml"))
    assert len(files) == 2
    for path in files:
        assert schema.validate(etree.parse(str(path))), schema.error_log


def test_goaml_report_structure(drafted: Path):
    doc = etree.parse(str(drafted / C1 / "goaml_str.xml"))
    assert doc.xpath("string(/report/report_code)") == "STR"
    assert doc.xpath("string(/report/entity_reference)") == C1
    assert doc.xpath("/report/report_indicators/indicator/text()") == ["CSAM1"]
    transactions = doc.xpath("/report/transaction")
    assert [t.findtext("transactionnumber") for t in transactions] == ["t1", "t2", "t3", "t4"]
    first = transactions[0]
    assert first.xpath("string(t_from_my_client/from_account/account)") == "A-c1"
    assert first.xpath("string(t_from_my_client/from_account/signatory/t_person/last_name)") == "Example"
    assert first.xpath("string(t_from_my_client/from_country)") == "GB"
    assert first.xpath("string(t_to/to_country)") == "PH"
    assert first.xpath("string(t_to/to_person/last_name)") == "Santos"
    assert first.xpath("string(amount_local)") == "62.50"
    assert first.xpath("string(t_from_my_client/from_foreign_currency/foreign_amount)") == "50.00"
    assert first.xpath("string(date_transaction)") == "2025-02-03T22:30:00"
    assert "OCSE" in doc.xpath("string(/report/reason)")


def test_every_case_writes_five_valid_regulator_files(drafted: Path):
    from bantay.sar import austrac, fincen, fintrac, goaml

    cases = sorted(p for p in drafted.iterdir() if p.is_dir())
    assert len(cases) == 2
    for folder in cases:
        assert fincen.schema().validate(etree.parse(str(folder / "fincen_sar.xml")))
        assert goaml.test_schema().validate(etree.parse(str(folder / "goaml_str.xml")))
        assert austrac.schema().validate(etree.parse(str(folder / "austrac_smr.xml")))
        report = json.loads((folder / "fintrac_str.json").read_text(encoding="utf-8"))
        fintrac.validate(report, folder.name)
        assert report["detailsOfSuspicion"]["publicPrivatePartnershipProjectNameCodes"] == [8]
        assert (folder / "nca_sar.txt").read_text(encoding="utf-8").startswith("XXV3XX")
    # The rates the forms converted with are in the draft: GBP, AUD and CAD for each of c1's booking days.
    rates = load_draft(drafted / C1)["fx_rates"]
    assert {r["currency"] for r in rates} == {"AUD", "CAD", "GBP"}
    aud = etree.parse(str(drafted / C1 / "austrac_smr.xml"))
    # c1's first payment: GBP 50 x 1.25 / 0.625 = AUD 100.00.
    assert aud.xpath("//a:txnDetail[1]/a:txnAmount/text()", namespaces={"a": austrac.NS}) == ["100.00"]


def test_rerun_replaces_the_day_and_removes_cases_no_longer_alerted(spark, sar_world: World, drafted: Path):
    from bantay.jobs import draft_cases

    stale = drafted / C2 / "draft.json"
    assert stale.exists()
    sar_world.scores[1]["alert"] = False  # c2 is no longer alerted
    sar_world.write()
    path = draft_cases.run(
        draft_settings(sar_world.out), AS_OF, generated_at=GENERATED_AT.replace(tzinfo=UTC)
    )
    assert sorted(p.name for p in path.iterdir() if p.is_dir()) == [C1]
    assert not stale.exists()
    assert not (path.parent / "_staging").exists()
    k1 = next(c for c in load_draft(path / C1)["clusters"] if c["cluster_id"] == "K1")
    assert k1["other_case_ids"] == [] and k1["other_customer_ids"] == ["c2", "c3"]


def test_a_day_without_its_payee_clusters_stops_with_one_line(spark, sar_world: World, tmp_path: Path):
    """Drafts without the day's clusters would lose their network grounds silently: the job stops instead."""
    import shutil

    from bantay.errors import MissingArtefactError
    from bantay.io import catalogue
    from bantay.jobs import draft_cases

    out = tmp_path / "out"
    shutil.copytree(sar_world.out, out)
    shutil.rmtree(catalogue.partition(out, "clusters", AS_OF))
    with pytest.raises(MissingArtefactError, match="no payee clusters; run `bantay features"):
        draft_cases.run(draft_settings(out), AS_OF, generated_at=GENERATED_AT.replace(tzinfo=UTC))


def test_grounds_are_the_activity_that_holds_strongest_first(drafted: Path):
    draft = load_draft(drafted / C1)
    grounds = {i["code"]: i["txn_ids"] for i in draft["indicators"]}
    assert list(grounds) == [
        "CONFIRMED_CLUSTER",
        "REFERENCES",
        "RELATED_SPEND",
        "SHARED_CLUSTER",
        "NIGHT_PAYMENTS",
        "BURSTS",
        "SOURCE_COUNTRY_PAYMENTS",
        "ROUND_AMOUNTS",
    ]
    # Cluster grounds cite only the payments to that cluster's payees: P1 (K1), never P2 (K2) or the card.
    assert grounds["CONFIRMED_CLUSTER"] == ["t1", "t3"]
    assert grounds["SHARED_CLUSTER"] == ["t1", "t3"]
    # The suspicious set is the union of the payment grounds' evidence, and every total is its sum; the
    # related card spending is a supporting ground, its row listed apart.
    supporting = {i["code"] for i in draft["indicators"] if i["supporting"]}
    assert supporting == {"RELATED_SPEND"}
    union = sorted({t for code, ids in grounds.items() if code not in supporting for t in ids})
    assert union == sorted(t["txn_id"] for t in draft["transactions"])
    assert [t["txn_id"] for t in draft["supporting_transactions"]] == grounds["RELATED_SPEND"] == ["t5"]
    by_code = {i["code"]: i for i in draft["indicators"]}
    assert by_code["NIGHT_PAYMENTS"]["text"] == (
        "3 of the 4 payments abroad between 2025-02-03 and 2025-02-20 (75%) were made between 21:00 and "
        "03:00 in the customer's local time (Europe/London), 143.75 USD in total"
    )
    assert by_code["CONFIRMED_CLUSTER"]["text"] == (
        "2 payments (93.75 USD) to payee cluster K1, which 1 confirmed case of the institution also paid "
        "(between 2025-02-03 and 2025-02-10)"
    )
    k1 = next(c for c in draft["clusters"] if c["cluster_id"] == "K1")
    assert k1["facts"][:2] == [
        "1 confirmed case paid this cluster in the last year",
        "2 other customers of the institution paid this cluster this year",
    ]
    # Travel and the profile are model reasons (internal), never grounds; no trafficking code from a ticket.
    reasons = {r["feature"]: r["ground"] for r in draft["model"]["reasons"]}
    assert reasons["n_airline_90d"] is None and reasons["is_male"] is None and reasons["age_years"] is None
    assert reasons["share_p2p_night_90d"] == "NIGHT_PAYMENTS"
    assert draft["trafficking_indicated"] is False
    assert draft["filing"]["nca"]["glossary_codes"] == ["XXV3XX"]


def test_no_profile_model_or_travel_text_in_any_filed_form(drafted: Path):
    folder = drafted / C1
    filed = {name: (folder / name).read_text(encoding="utf-8") for name in
             ("fincen_sar.xml", "goaml_str.xml", "nca_sar.txt")}
    page = (folder / "draft.html").read_text(encoding="utf-8")
    internal = page.index('<section id="internal"')
    filed["draft.html (outside the internal section)"] = page[:internal]
    for name, text in filed.items():
        for phrase in ("KYC gender", "male: yes", "customer aged", "customer for", "airline",
                       "Example Airways", "Leeds Lettings", "R_NIGHT", "O5 (", "0.9134", "contribution",
                       "score of"):
            assert phrase not in text, (name, phrase)
        why = text.split("WHY:")[-1].split("HOW:")[0]
        # No raw floats such as 34.6588 in the grounds (IP addresses aside).
        assert not re.search(r"(?<![\d.])\d+\.\d{3,}(?![\d.])", why), name
    # The internal section of the page is marked and holds the model's reasons.
    assert "INTERNAL - for the investigator only; not part of any regulator filing" in page[internal:]
    assert "KYC gender recorded as male: yes" in page[internal:]


def test_draft_page_links_every_ground_to_its_transactions(drafted: Path):
    page = (drafted / C1 / "draft.html").read_text(encoding="utf-8")
    draft = load_draft(drafted / C1)
    for txn in draft["transactions"] + draft["supporting_transactions"]:
        assert f'<tr id="txn-{txn["txn_id"]}">' in page
    for ground in draft["indicators"]:
        assert f'<tr id="ground-{ground["code"].lower()}">' in page
        for txn_id in ground["txn_ids"]:
            assert f'<a href="#txn-{txn_id}">{txn_id}</a>' in page
    assert "1 confirmed case paid this cluster in the last year." in page


def test_related_spend_is_evidence_never_reported_property(drafted: Path):
    """c1's token-seller card payment t5 (GBP 15.00, USD 18.75) is shown with its id, never reported."""
    from bantay.sar import austrac

    folder = drafted / C1
    draft = load_draft(folder)
    listed = [t["txn_id"] for t in draft["transactions"]]
    assert listed == ["t1", "t2", "t3", "t4"]
    # The reported amount is the sum of the listed suspicious payments only (t5 would make it 204.13).
    assert draft["totals"]["reporting"]["amount"] == sum(t["amount_reporting"] for t in draft["transactions"])
    ns = {"fc2": "www.fincen.gov/base"}
    fincen_doc = etree.parse(str(folder / "fincen_sar.xml"))
    assert fincen_doc.findtext(".//fc2:TotalSuspiciousAmountText", namespaces=ns) == "185"
    fincen_text = "".join(fincen_doc.xpath("//fc2:ActivityNarrativeText/text()", namespaces=ns))
    payments = fincen_text.split("PAYMENTS (")[1]
    assert [line.rsplit("; ", 1)[1] for line in payments.splitlines()[1:5]] == listed
    assert "CamSite" not in payments and "t5" not in payments
    goaml_doc = etree.parse(str(folder / "goaml_str.xml"))
    assert goaml_doc.xpath("/report/transaction/transactionnumber/text()") == listed
    fintrac = json.loads((folder / "fintrac_str.json").read_text(encoding="utf-8"))
    details = [t["suspiciousTransactionDetails"] for t in fintrac["transactions"]]
    assert [d["reportingEntityTransactionReference"] for d in details] == listed
    smr = etree.parse(str(folder / "austrac_smr.xml"))
    a = {"a": austrac.NS}
    assert smr.xpath("//a:txnDetail/a:txnRefNo/text()", namespaces=a) == listed
    # GBP 148.30 at 1.25 USD per GBP and 0.625 USD per AUD: AUD 296.60 (with t5 it would be 326.60).
    assert smr.xpath("string(//a:grandTotal)", namespaces=a) == "296.60"
    nca_text = (folder / "nca_sar.txt").read_text(encoding="utf-8")
    table = nca_text.split("\nTRANSACTIONS (")[1].split("\nSUSPECTED CRIMINAL PROPERTY")[0]
    assert len(table.strip().splitlines()) == 5 and "CamSite" not in table  # the heading and four payments
    assert "SUSPECTED CRIMINAL PROPERTY: the funds sent in the payments above, 185.38 USD in total." in (
        nca_text
    )
    # The supporting ground and its transaction id stay in every narrative and on the page.
    for text in (fincen_text, nca_text, goaml_doc.xpath("string(/report/reason)")):
        context = text.split("Supporting context")[1].split("HOW:")[0]
        assert "Card payments to related merchants: 1 card payment on 2025-02-21" in context
        assert "Transactions: t5." in context
    page = (folder / "draft.html").read_text(encoding="utf-8")
    main_table, supporting = page.split('id="supporting-transactions"')
    assert '<tr id="txn-t5">' in supporting and '<tr id="txn-t5">' not in main_table
    assert '<a href="#txn-t5">t5</a>' in page


def _world_with_a_failing_case(out: Path) -> World:
    """The drafts' world with a third alert, cust-sek, whose forms cannot be rendered (written)."""
    from datetime import datetime

    from sar_world import txn, world

    made = world(out)
    sek = txn("s1", "cust-sek", datetime(2025, 2, 12, 10, 0), "500.00", "USD", "P9", "Lita Ramos", "PH")
    made.transactions.append({**sek, "currency": "SEK", "amount_usd": 47.5})
    made.customers.append({**made.customers[0], "customer_id": "cust-sek", "full_name": "Sven Example"})
    # c2's reason (the median payment to individuals abroad) puts the SEK payment behind a ground.
    made.scores.insert(1, {**made.scores[1], "customer_id": "cust-sek", "score": 0.7, "rank": 2})
    made.write()
    return made


def test_one_failing_case_does_not_stop_the_others(
    spark, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
):
    """A customer whose forms cannot be rendered (a payment in SEK, a currency the FX table lacks: AUSTRAC's
    AUD conversion has no rate) gets a folder with error.txt and a failed row in the index; c1 and c2 are
    drafted in full, the day is swapped in whole, and the command exits 1 with one line."""
    from bantay import cli

    made = _world_with_a_failing_case(tmp_path / "out")
    failing = build.case_id("cust-sek", AS_OF)
    argv = ["draft", "--ledger", str(tmp_path / "ledger"), "--out", str(made.out), "--as-of", "2025-03-01"]
    with caplog.at_level("INFO", logger="bantay"):
        assert cli.main([*argv, "--master", "local[2]", "--demo"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"bantay: error: 1 of 3 drafts for 2025-03-01 failed (FxRateError x1); the others are written: see "
        f"{made.out / 'cases' / 'as_of=2025-03-01' / 'index.html'} and error.txt in each failed case folder"
    ]
    day = made.out / "cases" / "as_of=2025-03-01"
    assert sorted(p.name for p in day.iterdir() if p.is_dir()) == sorted([C1, C2, failing])
    for ok in (C1, C2):
        assert len(list((day / ok).iterdir())) == 7 and load_draft(day / ok)["case_id"] == ok
    assert [p.name for p in (day / failing).iterdir()] == ["error.txt"]
    assert _mode(day / failing / "error.txt") == 0o600
    reason = (day / failing / "error.txt").read_text(encoding="utf-8")
    assert reason.count("\n") == 1
    assert reason.startswith(f"FxRateError: case {failing}: no SEK rate on or before 2025-02-12 in fx_rates")
    index = (day / "index.html").read_text(encoding="utf-8")
    row = index.split(f'<tr id="failed-{failing}">')[1].split("</tr>")[0]
    assert "<td>failed</td>" in row and "FxRateError: case" in row and "no SEK rate" in row
    assert "2 alerted customers drafted, riskiest first; 1 failed" in index
    assert not (made.out / "cases" / "_staging").exists()
    # The log names the failed case and the error type, never the customer or the message.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"draft of case {failing} failed (FxRateError)" in logged
    assert "cust-sek" not in logged and "Sven" not in logged and "no SEK rate" not in logged
    # The case store holds the two drafted cases only.
    from sqlalchemy import select

    from bantay.cases import db
    from bantay.cases.models import Case

    with db.open_store(made.out)() as session:
        stored = sorted(c.id for c in session.scalars(select(Case)))
    assert stored == sorted([C1, C2])


def test_cluster_index_gives_each_draft_its_own_payees_clusters_only():
    # Built once for a day's drafts; each draft reads the clusters of its own payees, the other payers
    # without itself (a cluster it alone pays is left out), and whether it is itself confirmed.
    import pandas as pd

    clusters = pd.DataFrame({
        "counterparty_id": ["P1", "P3", "P9"],
        "cluster_id": ["K1", "K1", "K9"],
        "n_members": [2, 2, 1],
        "n_confirmed_payers_365d": [1, 1, 0],
        "as_of": [AS_OF, AS_OF, AS_OF],
    })
    payers = pd.DataFrame({
        "cluster_id": ["K1", "K1", "K1", "K9"],
        "customer_id": ["c1", "c2", "c3", "c1"],
        "confirmed": [0, 1, 0, 0],
    })
    index = build.ClusterIndex.of(clusters, payers)
    assert index.members == {"K1": ["P1", "P3"], "K9": ["P9"]}
    assert index.facts["K1"] == {"n_members": 2, "n_confirmed_payers_365d": 1}  # no ids, no date
    assert index.confirmed == frozenset({"c2"})
    cluster_of, facts, others = index.view("c1", pd.Series(["P1", "P9", None, "P7", "P1"]))
    assert cluster_of == {"P1": "K1", "P9": "K9"}  # P7 is in no cluster
    assert set(facts) == {"K1", "K9"}
    assert others == {"K1": 2}  # K9: c1 alone
    cluster_of, facts, others = index.view("c2", pd.Series(["P3"]))
    assert cluster_of == {"P3": "K1"} and set(facts) == {"K1"} and others == {"K1": 2}
    empty = build.ClusterIndex.of(clusters.iloc[0:0], payers.iloc[0:0])
    assert empty.view("c1", pd.Series(["P1"])) == ({}, {}, {})


def test_build_drafts_and_write_cases_in_workers_equal_those_in_the_job(
    spark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """Two worker processes (one case per chunk) build and render the same drafts, in the same order, with
    the same failures (c2 cannot be built: a model reason whose contribution is no number; cust-sek cannot
    be rendered), as the job's own process; every file of the day is byte for byte the same, the caller's
    drafts hold what rendering recorded, and each failed case is logged by the job, not lost in a worker."""
    from bantay import pool
    from bantay.jobs import draft_cases
    from bantay.sar import evidence, goaml

    made = _world_with_a_failing_case(tmp_path / "out")
    settings = draft_settings(made.out)
    config = goaml.load_config(None)
    stamp = GENERATED_AT.replace(tzinfo=UTC)
    inputs = evidence.load(spark, settings, AS_OF, evidence.read_alerts(spark, settings, AS_OF))
    c2_row = inputs.scores.index[inputs.scores["customer_id"] == "c2"][0]
    inputs.scores.at[c2_row, "reasons"] = [{"code": "R1", "feature": "n_p2p_90d", "contribution": "n/a"}]
    monkeypatch.setattr(draft_cases, "MIN_CHUNK", 1)
    assert len(pool.bounds(len(inputs.scores), 2, draft_cases.MIN_CHUNK)) == 3  # the workers' branch
    sek = build.case_id("cust-sek", AS_OF)
    built, written = {}, {}
    for workers in (1, 2):
        chosen = settings.model_copy(update={"draft_workers": workers})
        caplog.clear()
        with caplog.at_level("ERROR", logger="bantay"):
            drafts, failed = draft_cases.build_drafts(inputs, chosen, stamp, config)
            draft_cases._attach_rates(spark, chosen, AS_OF, drafts, config)
            built[workers] = json.dumps(drafts, sort_keys=True)
            folder = tmp_path / f"workers-{workers}"
            failed_here = draft_cases.write_cases(folder, drafts, chosen, AS_OF, stamp, config, False, failed)
        assert [(f.case_id, f.error_type) for f in failed] == [(C2, "ValueError")]
        assert [(f.case_id, f.error_type) for f in failed_here] == [(sek, "FxRateError")]
        assert [r.getMessage() for r in caplog.records] == [
            f"draft of case {C2} failed (ValueError); the other cases go on",
            f"draft of case {sek} failed (FxRateError); the other cases go on",
        ]
        assert [d["case_id"] for d in drafts] == [d["case_id"] for d in json.loads(built[workers])]
        assert [d["case_id"] for d in drafts if "forms_omitted" in d] == [C1]  # recorded by its rendering
        written[workers] = {
            str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
        }
    assert sorted(d["case_id"] for d in json.loads(built[2])) == sorted([C1, sek])
    assert built[1] == built[2]
    assert len(written[2]) == 7 + 2 + 5  # c1's seven files, two failed cases' error.txt, the day's views
    assert written[1] == written[2]
