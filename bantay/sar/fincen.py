"""FinCEN BSA E-Filing SAR batch XML (form SARX, schema v1.2) from a draft, validated with lxml.

Follows FinCEN notice FIN-2021-NTC3: key term `OCSE-FIN-2021-NTC3` in field 2 and in the narrative, field
38(z) Other with "OCSE" (SuspiciousActivityTypeID 9, SubtypeID 9999), field 43 with the public IP addresses
of the sessions behind the reported payments. The subject carries item 16 (TIN, or TIN unknown) beside the
form of identification, and its accounts through party 41; the narrative lists every reported payment.
What is verified in each rule: docs/formats.md.
Every string is cleaned for XML and clipped to the schema's length; clips are returned for draft.json.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Any

from lxml import etree

from bantay.errors import BantayError
from bantay.sar.text import Clipper, Truncation

NS = "www.fincen.gov/base"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_FILE = "EFL_SARXBatchSchema.xsd"
# FinCEN's test Transmitter Control Code; an institution files with the TCC FinCEN issued to it.
DEFAULT_TCC = "TBSATEST"
NARRATIVE_LIMITS = (4000, 4000, 4000, 4000, 1000)  # blocks 1-5: 17,000 characters in all
REGULATOR_CODES = {
    "CFTC": "9",
    "FRB": "1",
    "FEDERAL RESERVE": "1",
    "FDIC": "2",
    "IRS": "7",
    "NCUA": "3",
    "OCC": "4",
    "SEC": "6",
    "FHFA": "13",
}
ORGANIZATION_CODES = {
    "casino": "1",
    "card club": "1",
    "depository": "2",
    "insurance": "3",
    "money services": "4",
    "msb": "4",
    "securities": "5",
    "futures": "5",
    "loan": "11",
    "finance company": "11",
    "housing gse": "12",
}
ID_TYPE_CODES = {
    "ssn": "1",
    "itin": "1",
    "ein": "2",
    "tin": "4",
    "driving_licence": "5",
    "driving_license": "5",
    "drivers_license": "5",
    "state_id": "5",
    "passport": "6",
    "alien_registration": "7",
    "foreign": "9",
}
# Item 16 (TIN) type codes: a number of one of these kinds is a taxpayer identification number.
TIN_TYPE_CODES = {
    "ssn": "1",
    "itin": "1",
    "ein": "2",
    "tin": "9",
    "foreign_tin": "9",
    "tax_id": "9",
    "tax_number": "9",
}
TRAFFICKING_SUBTYPES = (926, 927)  # 38(g) human smuggling, 38(h) human trafficking
MAX_ACCOUNTS = 99
MAX_IPS = 99


class FincenSchemaError(BantayError):
    """The FinCEN XML built for a case does not validate against the SAR XSD (a bug: say which case)."""


@cache
def schema() -> etree.XMLSchema:
    """The vendored FinCEN SAR XSD, compiled once."""
    with resources.files("bantay.sar").joinpath("schemas", SCHEMA_FILE).open("rb") as handle:
        return etree.XMLSchema(etree.parse(handle))


class _Builder:
    def __init__(self, clipper: Clipper) -> None:
        self.seq = 0
        self.clip = clipper

    def el(
        self, parent: etree._Element, name: str, text: str | None = None, seq: bool = False
    ) -> etree._Element:
        child = etree.SubElement(parent, f"{{{NS}}}{name}")
        if seq:
            self.seq += 1
            child.set("SeqNum", str(self.seq))
        if text is not None:
            child.text = text
        return child

    def line(self, parent: etree._Element, name: str, value: Any, limit: int, where: str) -> None:
        text = self.clip.line(value, limit, where)
        if text:
            self.el(parent, name, text)


def build(draft: Mapping[str, Any], tcc: str = DEFAULT_TCC) -> tuple[bytes, list[Truncation]]:
    """The SAR batch for one draft and the clips made to fit it; FincenSchemaError if it does not validate."""
    clipper = Clipper("fincen_sar.xml")
    b = _Builder(clipper)
    inst, subject = draft["institution"], draft["subject"]
    root = etree.Element(f"{{{NS}}}EFilingBatchXML", nsmap={"fc2": NS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{NS} https://www.fincen.gov/base/{SCHEMA_FILE}")
    b.el(root, "FormTypeCode", "SARX")
    activity = b.el(root, "Activity", seq=True)
    b.el(activity, "FilingDateText", _yyyymmdd(draft["generated_at"]))
    b.el(activity, "FilingInstitutionNotetoFinCEN", draft["filing"]["fincen"]["key_term"])
    association = b.el(activity, "ActivityAssociation", seq=True)
    b.el(association, "InitialReportIndicator", "Y")

    parties = [
        _institution_party(b, activity, "35", inst, tcc=tcc),
        _contact_party(b, activity, "37", inst["contact_office"], None),
        _institution_party(b, activity, "30", inst),
        _contact_party(b, activity, "8", inst["contact_office"], inst.get("contact_phone")),
        _institution_party(b, activity, "34", inst),
        _subject_party(b, activity, subject, draft),
    ]
    total = _suspicious_activity(b, activity, draft)
    for ip in public_ips(draft):
        entry = b.el(activity, "ActivityIPAddress", seq=True)
        b.el(entry, "ActivityIPAddressDateText", _yyyymmdd(ip["last_seen"]))
        b.el(entry, "ActivityIPAddressTimeStampText", ip["last_seen"][11:19])
        b.line(entry, "IPAddressText", ip["ip_address"], 39, "ActivityIPAddress/IPAddressText")
    for number, block in enumerate(narrative_blocks(draft, clipper), start=1):
        info = b.el(activity, "ActivityNarrativeInformation", seq=True)
        b.el(info, "ActivityNarrativeSequenceNumber", str(number))
        b.el(info, "ActivityNarrativeText", block)

    root.set("TotalAmount", total)
    root.set("PartyCount", str(len(parties)))
    root.set("ActivityCount", "1")
    root.set("ActivityAttachmentCount", "0")
    root.set("AttachmentCount", "0")
    document = etree.ElementTree(root)
    if not schema().validate(document):
        first = schema().error_log.filter_from_errors()[0]
        raise FincenSchemaError(
            f"case {draft['case_id']}: FinCEN XML invalid at line {first.line}: {first.message}"
        )
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True), clipper.notes


def narrative_blocks(draft: Mapping[str, Any], clipper: Clipper) -> list[str]:
    """The narrative, key term first, cut in order into at most five blocks (4 x 4,000 + 1,000 characters)."""
    from bantay.sar.narrative import narrative

    key = draft["filing"]["fincen"]["key_term"]
    text = clipper.text(
        f"{key}.\n\n{narrative(draft, payments=True, form='fincen')}",
        sum(NARRATIVE_LIMITS),
        "ActivityNarrativeText",
    )
    blocks, start = [], 0
    for limit in NARRATIVE_LIMITS:
        if start >= len(text):
            break
        blocks.append(text[start : start + limit])
        start += limit
    return blocks


def _institution_party(
    b: _Builder, activity: etree._Element, role: str, inst: Mapping[str, Any], tcc: str | None = None
) -> etree._Element:
    party = b.el(activity, "Party", seq=True)
    b.el(party, "ActivityPartyTypeCode", role)
    if role == "34":
        b.el(party, "NoBranchActivityInvolvedIndicator", "Y")
    if role in ("30", "34"):
        b.el(
            party,
            "PrimaryRegulatorTypeCode",
            REGULATOR_CODES.get(str(inst.get("primary_regulator", "")).upper(), "99"),
        )
    _name(b, party, full=inst["name"], role=role)
    _address(
        b,
        party,
        inst.get("address"),
        inst.get("city"),
        inst.get("state"),
        inst.get("postcode"),
        inst.get("country"),
        role,
    )
    if role == "35" and inst.get("contact_phone"):
        phone = b.el(party, "PhoneNumber", seq=True)
        b.line(phone, "PhoneNumberText", _digits(inst["contact_phone"]), 16, "Party35/PhoneNumberText")
    tin = b.el(party, "PartyIdentification", seq=True)
    b.line(tin, "PartyIdentificationNumberText", inst.get("tin"), 25, f"Party{role}/TIN")
    b.el(tin, "PartyIdentificationTypeCode", "4" if role == "35" else "2")
    if role == "35":
        control = b.el(party, "PartyIdentification", seq=True)
        b.line(control, "PartyIdentificationNumberText", tcc or DEFAULT_TCC, 25, "Party35/TCC")
        b.el(control, "PartyIdentificationTypeCode", "28")
    if role in ("30", "34"):
        org = b.el(party, "OrganizationClassificationTypeSubtype", seq=True)
        code = _organization_code(str(inst.get("institution_type", "")))
        b.el(org, "OrganizationTypeID", code)
        if code == "999":
            b.line(
                org,
                "OtherOrganizationTypeText",
                inst.get("institution_type"),
                50,
                f"Party{role}/OtherOrganizationType",
            )
    return party


def _contact_party(
    b: _Builder, activity: etree._Element, role: str, name: str, phone: str | None
) -> etree._Element:
    party = b.el(activity, "Party", seq=True)
    b.el(party, "ActivityPartyTypeCode", role)
    _name(b, party, full=name, role=role)
    if phone:
        number = b.el(party, "PhoneNumber", seq=True)
        b.line(number, "PhoneNumberText", _digits(phone), 16, f"Party{role}/PhoneNumberText")
    return party


def _subject_party(
    b: _Builder, activity: etree._Element, subject: Mapping[str, Any], draft: Mapping[str, Any]
) -> etree._Element:
    party = b.el(activity, "Party", seq=True)
    b.el(party, "ActivityPartyTypeCode", "33")
    birth = subject.get("birth_date")
    gender = (subject.get("gender") or "").upper()
    if not birth:
        b.el(party, "BirthDateUnknownIndicator", "Y")
    if gender == "F":
        b.el(party, "FemaleGenderIndicator", "Y")
    if birth:
        b.el(party, "IndividualBirthDateText", birth.replace("-", "")[:8])
    if gender == "M":
        b.el(party, "MaleGenderIndicator", "Y")
    if gender not in ("F", "M"):
        b.el(party, "UnknownGenderIndicator", "Y")
    _person_name(b, party, subject.get("full_name"), "33")
    _address(
        b,
        party,
        subject.get("address_line"),
        subject.get("city"),
        None,
        subject.get("postcode"),
        subject.get("residence_country"),
        "33",
    )
    _identification(b, party, subject)
    if subject.get("occupation"):
        occupation = b.el(party, "PartyOccupationBusiness", seq=True)
        b.line(
            occupation, "OccupationBusinessText", subject["occupation"], 50, "Party33/OccupationBusinessText"
        )
    _accounts(b, party, draft)
    return party


def _person_name(b: _Builder, party: etree._Element, full_name: Any, role: str) -> None:
    """A person's legal name in the XSD's order for every shape of name: the unknown-name indicators come
    before `PartyNameTypeCode`, the name parts after it. A one-word name is a last name with the first name
    unknown; a blank, whitespace-only or missing name leaves both unknown."""
    first, last = split_name(full_name)
    last_text = b.clip.line(last, 150, f"Party{role}/RawEntityIndividualLastName")
    first_text = b.clip.line(first, 35, f"Party{role}/RawIndividualFirstName")
    name = b.el(party, "PartyName", seq=True)
    if not last_text:
        b.el(name, "EntityLastNameUnknownIndicator", "Y")
    if not first_text:
        b.el(name, "FirstNameUnknownIndicator", "Y")
    b.el(name, "PartyNameTypeCode", "L")
    if last_text:
        b.el(name, "RawEntityIndividualLastName", last_text)
    if first_text:
        b.el(name, "RawIndividualFirstName", first_text)


def _identification(b: _Builder, party: etree._Element, subject: Mapping[str, Any]) -> None:
    """Item 16 (TIN, or `TINUnknownIndicator` when the customer's id is not a taxpayer number) and item 18
    (the form of identification: passport, driving licence, ...), each its own PartyIdentification."""
    number = b.clip.line(subject.get("id_number"), 25, "Party33/PartyIdentificationNumberText")
    id_type = str(subject.get("id_type") or "").strip().lower().replace(" ", "_")
    tin_code = TIN_TYPE_CODES.get(id_type) if number else None
    if number and tin_code is None:
        code = ID_TYPE_CODES.get(id_type, "999")
        ident = b.el(party, "PartyIdentification", seq=True)
        b.line(
            ident,
            "OtherIssuerCountryText",
            subject.get("nationality") if code in ("6", "9", "999") else None,
            2,
            "Party33/OtherIssuerCountryText",
        )
        if code == "999":
            b.line(
                ident,
                "OtherPartyIdentificationTypeText",
                subject.get("id_type") or "Other",
                50,
                "Party33/OtherPartyIdentificationTypeText",
            )
        b.el(ident, "PartyIdentificationNumberText", number)
        b.el(ident, "PartyIdentificationTypeCode", code)
    tin = b.el(party, "PartyIdentification", seq=True)
    if tin_code is not None:
        b.el(tin, "PartyIdentificationNumberText", number)
        b.el(tin, "PartyIdentificationTypeCode", tin_code)
    else:
        b.el(tin, "TINUnknownIndicator", "Y")


def _accounts(b: _Builder, party: etree._Element, draft: Mapping[str, Any]) -> None:
    """The subject's accounts at the filing institution: PartyAccountAssociation (7, activity affected
    account) holding the institution as party 41 with its TIN and each account (association 5)."""
    accounts = subject_accounts(draft)
    if not accounts:
        return
    inst = draft["institution"]
    association = b.el(party, "PartyAccountAssociation", seq=True)
    b.el(association, "PartyAccountAssociationTypeCode", "7")
    holder = b.el(association, "Party", seq=True)
    b.el(holder, "ActivityPartyTypeCode", "41")
    if str(inst.get("country") or "US").upper() != "US":
        b.el(holder, "NonUSFinancialInstitutionIndicator", "Y")
    tin = b.el(holder, "PartyIdentification", seq=True)
    tin_text = b.clip.line(inst.get("tin"), 25, "Party41/TIN")
    if tin_text:
        b.el(tin, "PartyIdentificationNumberText", tin_text)
        b.el(tin, "PartyIdentificationTypeCode", _institution_tin_code(inst))
    else:
        b.el(tin, "TINUnknownIndicator", "Y")
    for number in accounts[:MAX_ACCOUNTS]:
        account = b.el(holder, "Account", seq=True)
        b.line(account, "AccountNumberText", number, 40, "Party41/AccountNumberText")
        held = b.el(account, "PartyAccountAssociation", seq=True)
        b.el(held, "PartyAccountAssociationTypeCode", "5")


def subject_accounts(draft: Mapping[str, Any]) -> list[str]:
    """The accounts the reported payments were made from, else every account of the subject."""
    used = sorted({str(t["account_id"]) for t in draft["transactions"] if t.get("account_id")})
    return used or [str(a) for a in draft["subject"].get("account_ids") or []]


def public_ips(draft: Mapping[str, Any]) -> list[dict[str, str]]:
    """Field 43: the public IP addresses of the sessions that made the reported payments, with the last
    time each was used. Loopback, private, link-local, shared (CGNAT 100.64/10), multicast, reserved and
    unspecified addresses say nothing to law enforcement and are left out."""
    last_seen: dict[str, str] = {}
    for txn in draft["transactions"]:
        address = str(txn.get("ip_address") or "").strip()
        if address and is_public_ip(address):
            last_seen[address] = max(last_seen.get(address, ""), txn["booked_at"])
    ordered = sorted(last_seen.items(), key=lambda item: (item[1], item[0]), reverse=True)
    return [{"ip_address": ip, "last_seen": seen} for ip, seen in ordered[:MAX_IPS]]


def is_public_ip(address: str) -> bool:
    """True for a globally routable unicast IPv4 or IPv6 address (Python's ipaddress rules)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _institution_tin_code(inst: Mapping[str, Any]) -> str:
    return TIN_TYPE_CODES.get(str(inst.get("tin_type") or "EIN").strip().lower(), "2")


def _name(b: _Builder, party: etree._Element, full: Any, role: str) -> None:
    name = b.el(party, "PartyName", seq=True)
    b.el(name, "PartyNameTypeCode", "L")
    b.line(name, "RawPartyFullName", full, 150, f"Party{role}/RawPartyFullName")


def _address(
    b: _Builder,
    party: etree._Element,
    street: Any,
    city: Any,
    state: Any,
    postcode: Any,
    country: Any,
    role: str,
) -> None:
    address = b.el(party, "Address", seq=True)
    city_text = b.clip.line(city, 50, f"Party{role}/RawCityText")
    street_text = b.clip.line(street, 100, f"Party{role}/RawStreetAddress1Text")
    zip_text = b.clip.line(_alnum(postcode), 9, f"Party{role}/RawZIPCode")
    if not city_text:
        b.el(address, "CityUnknownIndicator", "Y")
    if not country:
        b.el(address, "CountryCodeUnknownIndicator", "Y")
    if city_text:
        b.el(address, "RawCityText", city_text)
    b.line(address, "RawCountryCodeText", country, 2, f"Party{role}/RawCountryCodeText")
    b.line(address, "RawStateCodeText", state, 3, f"Party{role}/RawStateCodeText")
    if street_text:
        b.el(address, "RawStreetAddress1Text", street_text)
    if zip_text:
        b.el(address, "RawZIPCode", zip_text)
    if not state and str(country or "").upper() == "US":
        b.el(address, "StateCodeUnknownIndicator", "Y")
    if not street_text:
        b.el(address, "StreetAddressUnknownIndicator", "Y")
    if not zip_text:
        b.el(address, "ZIPCodeUnknownIndicator", "Y")


def _suspicious_activity(b: _Builder, activity: etree._Element, draft: Mapping[str, Any]) -> str:
    block = b.el(activity, "SuspiciousActivity", seq=True)
    window = draft["activity"]
    usd = draft["totals"].get("usd_amount")
    if usd is None:
        b.el(block, "AmountUnknownIndicator", "Y")
    start = window["from"] or draft["as_of"]
    b.el(block, "SuspiciousActivityFromDateText", start.replace("-", ""))
    if window["to"]:
        b.el(block, "SuspiciousActivityToDateText", window["to"].replace("-", ""))
    total = whole_dollars(usd)
    if usd is not None:
        b.el(block, "TotalSuspiciousAmountText", total)
    for item in classifications(draft):
        entry = b.el(block, "SuspiciousActivityClassification", seq=True)
        if item.get("other_text"):
            b.line(
                entry,
                "OtherSuspiciousActivityTypeText",
                item["other_text"],
                50,
                "OtherSuspiciousActivityTypeText",
            )
        b.el(entry, "SuspiciousActivitySubtypeID", str(item["subtype_id"]))
        b.el(entry, "SuspiciousActivityTypeID", str(item["type_id"]))
    return total


def classifications(draft: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Field 38 entries: 38(z) Other "OCSE" always; the trafficking subtypes (38(h) 927, 38(g) 926) only when
    the draft says trafficking is indicated (`trafficking_indicated`), never from a purchase alone."""
    trafficking = bool(draft.get("trafficking_indicated"))
    items: list[Mapping[str, Any]] = [
        item
        for item in draft["filing"]["fincen"]["classifications"]
        if trafficking or int(item["subtype_id"]) not in TRAFFICKING_SUBTYPES
    ]
    if trafficking and not any(int(item["subtype_id"]) == 927 for item in items):
        items.append({"type_id": 9, "subtype_id": 927, "other_text": None, "field": "38(h)"})
    seen, unique = set(), []
    for item in items:
        if item["subtype_id"] not in seen:
            seen.add(item["subtype_id"])
            unique.append(item)
    return unique


def whole_dollars(amount: float | None) -> str:
    """A USD amount as whole dollars (FinCEN's amount fields), rounded half up; '0' when absent."""
    if amount is None:
        return "0"
    return str(Decimal(str(amount)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def split_name(full_name: Any) -> tuple[str, str]:
    """(given names, family name) from a full name as recorded.

    "SURNAME, GIVEN NAMES" (a comma: the family name first, as bank and remittance records often hold it)
    gives the part before the first comma as the family name; otherwise the last word is the family name."""
    text = " ".join(str(full_name or "").split())
    family, comma, given = text.partition(",")
    if comma and family.strip() and given.strip():
        return " ".join(given.replace(",", " ").split()), family.strip()
    words = text.replace(",", " ").split()
    if not words:
        return "", ""
    if len(words) == 1:
        return "", words[0]
    return " ".join(words[:-1]), words[-1]


def _organization_code(institution_type: str) -> str:
    lowered = institution_type.lower()
    for key, code in ORGANIZATION_CODES.items():
        if key in lowered:
            return code
    return "999"


def _yyyymmdd(stamp: str) -> str:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).strftime("%Y%m%d")


def _digits(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())


def _alnum(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch.isascii() and ch.isalnum())
