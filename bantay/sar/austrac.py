"""AUSTRAC suspicious matter report (SMR, Australia) in the SMR-2-0 XML format, from a draft.

AUSTRAC's format has no code for online child sexual exploitation: the report gives the most likely offence
`OG` (an offence against a law of the Commonwealth, a State or a Territory), the reason "unusual account
activity" (UA) and the reason in words ("suspected online child sexual exploitation (OCSE)"), the grounds
narrative, the subject as suspicious person, each payee as other person (account, wallet, phone), and one
transaction detail per reported payment in Australian dollars at the ledger's rate of the day, with the total
in AUD. docs/formats.md says which field rules are verified. Checked against
`schemas/austrac_smr_2_0_structure.xsd`, a structure schema of the subset Bantay writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from lxml import etree

from bantay.errors import BantayError
from bantay.sar import fincen
from bantay.sar.fx import Rates
from bantay.sar.narrative import narrative
from bantay.sar.text import Clipper, Truncation, upper_first

NS = "http://austrac.gov.au/schema/reporting/SMR-2-0"
CURRENCY = "AUD"
SCHEMA_FILE = "austrac_smr_2_0_structure.xsd"
OFFENCE = "OG"  # offence against a Commonwealth, State or Territory law
REASONS = ("UA",)  # unusual account activity
# Designated services by channel (ACC_DEP: the customer's account; RS: remittance; FIN_EFT: electronic funds
# transfer; DCE: digital currency exchange).
SERVICES = {"remittance": "RS", "wallet": "RS", "bank_transfer": "FIN_EFT", "crypto": "DCE"}
ID_TYPES = {"passport": "P"}
MAX_IP_LENGTH = 20  # deviceIdentifier/identifier holds 20 characters: longer IPv6 addresses are left out


class AustracStructureError(BantayError):
    """An SMR does not match its structure schema (a bug: say which case)."""


@cache
def schema() -> etree.XMLSchema:
    """The SMR structure schema, compiled once."""
    with resources.files("bantay.sar").joinpath("schemas", SCHEMA_FILE).open("rb") as handle:
        return etree.XMLSchema(etree.parse(handle))


def file_name(generated_at: str, sequence: int = 1) -> str:
    """AUSTRAC's file name for a report file: SMRyyyymmddNN.xml."""
    stamp = datetime.fromisoformat(generated_at.replace("Z", "+00:00"))
    return f"SMR{stamp:%Y%m%d}{sequence:02d}.xml"


def build(draft: Mapping[str, Any]) -> tuple[bytes, list[Truncation]]:
    """The SMR file for one draft and the clips made; AustracStructureError if it fails its structure."""
    clip = Clipper("austrac_smr.xml")
    rates = Rates.of(draft)
    subject, inst = draft["subject"], draft["institution"]
    payments = [t for t in draft["transactions"] if t["direction"] == "out"]
    ids = _Ids()

    def el(parent: etree._Element, name: str, text: Any = None, with_id: bool = False) -> etree._Element:
        child = etree.SubElement(parent, f"{{{NS}}}{name}")
        if with_id:
            child.set("id", ids.next(name))
        if text is not None:
            child.text = str(text)
        return child

    root = etree.Element(f"{{{NS}}}smrList", nsmap={None: NS})
    el(root, "reNumber", _re_number(inst.get("austrac_re_number")))
    el(root, "fileName", file_name(draft["generated_at"]))
    el(root, "reportCount", "1")
    smr = el(root, "smr", with_id=True)
    header = el(smr, "header", with_id=True)
    el(header, "reReportRef", draft["case_id"][:40])
    branch = el(header, "reportingBranch", with_id=True)
    el(branch, "name", clip.line(inst.get("name") or "UNKNOWN", 120, "reportingBranch/name"))

    details = el(smr, "smDetails", with_id=True)
    for service in designated_services(payments):
        el(details, "designatedSvc", service)
    for code in REASONS:
        el(el(details, "suspReasons"), "suspReason", code)
    el(el(details, "suspReasons"), "suspReasonOther", clip.line(draft["wording"], 200, "suspReasonOther"))
    amounts = [(t, rates.convert(t["amount"], t["currency"], CURRENCY, t["booked_at"])) for t in payments]
    grand_total = sum((a for _, a in amounts), Decimal("0.00"))
    el(details, "grandTotal", _amount(grand_total))

    grounds = el(smr, "suspGrounds", with_id=True)
    el(
        grounds,
        "groundsForSuspicion",
        clip.text(
            f"{upper_first(draft['wording'])}.\n\n"
            + narrative(draft, form="austrac", lead_total=(grand_total, CURRENCY)),
            100_000,
            "groundsForSuspicion",
        ),
    )

    person = el(smr, "suspPerson", with_id=True)
    subject_id = person.get("id")
    _subject(el, clip, person, subject, draft)

    payee_ids: dict[str, str] = {}
    phones = {p["counterparty_id"]: p.get("phone") for p in draft["payees"]}
    for txn in payments:
        key = _payee_key(txn)
        if key in payee_ids:
            continue
        other = el(smr, "otherPerson", with_id=True)
        payee_ids[key] = str(other.get("id"))
        _payee(
            el,
            clip,
            other,
            txn,
            txn.get("counterparty_phone") or phones.get(txn.get("counterparty_id")),
            payments,
        )

    for txn, aud in amounts:
        detail = el(smr, "txnDetail", with_id=True)
        el(detail, "txnDate", txn["booked_at"][:10])
        abroad = txn.get("counterparty_country") and txn["counterparty_country"] != subject.get(
            "residence_country"
        )
        if abroad and txn["channel"] != "card":
            el(detail, "txnType", "IT")  # international transfer out
        else:
            el(detail, "txnTypeOther", clip.line(f"{txn['channel']} payment", 200, "txnTypeOther"))
        el(detail, "txnCompleted", "Y")
        el(detail, "txnRefNo", clip.line(txn["txn_id"], 40, "txnRefNo"))
        el(detail, "txnAmount", _amount(aud))
        if txn["currency"] != CURRENCY:
            foreign = el(detail, "foreignCurr", with_id=True)
            el(foreign, "currency", txn["currency"])
            el(foreign, "amount", _amount(Decimal(str(txn["amount"]))))
        sender = el(detail, "senderDrawerIssuer", with_id=True)
        el(sender, "sameAsSuspPerson").set("refId", str(subject_id))
        payee = el(detail, "payee", with_id=True)
        el(payee, "sameAsOtherPerson").set("refId", payee_ids[_payee_key(txn)])

    el(el(smr, "additionalDetails", with_id=True), "offence", OFFENCE)

    document = etree.ElementTree(root)
    if not schema().validate(document):
        first = schema().error_log.filter_from_errors()[0]
        raise AustracStructureError(
            f"case {draft['case_id']}: AUSTRAC SMR invalid at line {first.line}: {first.message}"
        )
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True), clip.notes


def designated_services(payments: list[Mapping[str, Any]]) -> list[str]:
    """ACC_DEP (the customer's account) and the service of each channel used, in a fixed order."""
    used = {SERVICES[t["channel"]] for t in payments if t.get("channel") in SERVICES}
    return ["ACC_DEP", *sorted(used)]


def total_aud(draft: Mapping[str, Any]) -> Decimal:
    """The reported payments in AUD, each converted at the rate of its day (the report's grandTotal)."""
    return Rates.of(draft).total_out(draft, CURRENCY)


class _Ids:
    """Document-unique xs:ID values: the element name and a running number."""

    def __init__(self) -> None:
        self.n = 0

    def next(self, name: str) -> str:
        self.n += 1
        return f"{name}{self.n}"


def _subject(
    el: Any, clip: Clipper, person: etree._Element, subject: Mapping[str, Any], draft: Mapping[str, Any]
) -> None:
    if subject.get("full_name"):
        el(person, "fullName", clip.line(subject["full_name"], 140, "suspPerson/fullName"))
    address = el(person, "mainAddress", with_id=True)
    for name, value, limit in (
        ("addr", subject.get("address_line"), 140),
        ("suburb", subject.get("city"), 35),
        ("postcode", subject.get("postcode"), 15),
        ("country", subject.get("residence_country"), 35),
    ):
        text = clip.line(value, limit, f"suspPerson/mainAddress/{name}")
        if text:
            el(address, name, text)
    for number in fincen.subject_accounts(draft):
        account = el(person, "account", with_id=True)
        if subject.get("full_name"):
            el(account, "title", clip.line(subject["full_name"], 140, "suspPerson/account/title"))
        el(account, "number", clip.line(number, 34, "suspPerson/account/number"))
        el(account, "otherDesc", "customer account")  # the ledger holds no account type
    if subject.get("birth_date") or subject.get("nationality"):
        individual = el(person, "individualDetails")
        if subject.get("birth_date"):
            el(individual, "dob", str(subject["birth_date"])[:10])
        if subject.get("nationality"):
            el(individual, "citizenCountry", subject["nationality"])
    if subject.get("id_number"):
        id_type = str(subject.get("id_type") or "").strip().lower().replace(" ", "_")
        ident = el(person, "identification", with_id=True)
        if id_type in ID_TYPES:
            el(ident, "type", ID_TYPES[id_type])
        else:
            el(
                ident,
                "typeOther",
                clip.line(subject.get("id_type") or "identification", 30, "identification/typeOther"),
            )
        el(ident, "number", clip.line(subject["id_number"], 20, "identification/number"))
        if subject.get("nationality"):
            el(ident, "country", subject["nationality"])
    for ip in fincen.public_ips(draft):
        if len(ip["ip_address"]) <= MAX_IP_LENGTH:
            device = el(person, "deviceIdentifier", with_id=True)
            el(device, "type", "IP")
            el(device, "identifier", ip["ip_address"])
    el(person, "personIsCustomer", "Y")


def _payee(
    el: Any,
    clip: Clipper,
    other: etree._Element,
    txn: Mapping[str, Any],
    phone: Any,
    payments: list[Mapping[str, Any]],
) -> None:
    if txn.get("counterparty_name"):
        el(other, "fullName", clip.line(txn["counterparty_name"], 140, "otherPerson/fullName"))
    address = el(other, "mainAddress", with_id=True)
    if txn.get("counterparty_city"):
        el(address, "suburb", clip.line(txn["counterparty_city"], 35, "otherPerson/mainAddress/suburb"))
    if txn.get("counterparty_country"):
        el(address, "country", txn["counterparty_country"])
    if phone:
        el(other, "phone", clip.line(phone, 20, "otherPerson/phone"))
    number = str(txn.get("counterparty_account") or "")
    wallet = txn.get("channel") == "crypto" and number.isalnum()
    if number and not wallet:
        account = el(other, "account", with_id=True)
        el(account, "number", clip.line(number, 34, "otherPerson/account/number"))
        el(account, "otherDesc", "wallet" if txn.get("channel") == "wallet" else "payee account")
    if wallet:
        el(other, "digitalCurrencyWallet", number)
    el(other, "personIsCustomer", "N")
    el(other, "relationship", "payee of the suspicious person's payments")
    paid = [t["txn_id"] for t in payments if _payee_key(t) == _payee_key(txn)]
    el(other, "evidence", clip.text("transactions " + ", ".join(paid), 4000, "otherPerson/evidence"))


def _payee_key(txn: Mapping[str, Any]) -> str:
    return str(txn.get("counterparty_id") or txn.get("counterparty_name") or txn["txn_id"])


def _re_number(value: Any) -> str:
    text = str(value or "").strip()
    return text if text.isdigit() and len(text) <= 7 else "0"


def _amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):.2f}"
