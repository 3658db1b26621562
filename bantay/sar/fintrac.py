"""FINTRAC Suspicious Transaction Report (Canada) as the JSON its reporting API takes (report type 102).

Built from draft.json alone: the report details, the suspicion (Project SHADOW, FINTRAC's public-private
partnership on online child sexual exploitation, code 8; money laundering, suspicion type 1), the narrative,
the people and businesses involved (`definitions`: the subject as conductor and account holder, each payee as
beneficiary), and one transaction per reported payment with its starting action (amount sent, the subject's
account, the session's public IP) and completing action (the payee, the payee's account or wallet, the value
in Canadian dollars at the ledger's rate of the day). docs/formats.md says which field rules are verified.
Checked against `schemas/fintrac_str.schema.json` (structure only, `bantay.sar.structure`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bantay.errors import BantayError
from bantay.sar import fincen, structure
from bantay.sar.fincen import split_name, subject_accounts
from bantay.sar.fx import Rates
from bantay.sar.goaml import business_kind, hub_payees, is_business
from bantay.sar.narrative import narrative
from bantay.sar.text import one_line, upper_first, xml_text

CURRENCY = "CAD"
SCHEMA_FILE = "fintrac_str.schema.json"
REPORT_TYPE_CODE = 102  # Suspicious Transaction Report
SUBMIT_TYPE_CODE = 1  # a new report (2 update, 5 delete)
SUSPICION_TYPE_CODE = 1  # money laundering
PROJECT_SHADOW = 8  # public-private partnership project on online child sexual exploitation
# activitySectorCode by the institution type's words (2 bank, 11 money services business).
ACTIVITY_SECTORS = {"depository": 2, "bank": 2, "money services": 11, "msb": 11}
# Definition type codes in the API schema: 3 person, 4 entity (beneficiaries), 5 person with employer
# (conductors); account holders and involvements refer to them as 1 person, 2 entity.
PERSON, ENTITY, CONDUCTOR = 3, 4, 5
WALLET_CHANNELS = {"crypto"}
ACTION_TAKEN = (
    "Reported to FINTRAC; the customer's activity is under review by the institution's financial "
    "intelligence unit. No transaction was blocked."
)
_REFERENCE = re.compile(r"[^A-Za-z0-9_-]")


class FintracStructureError(BantayError):
    """A FINTRAC STR does not match the structure the reporting API takes (a bug: say which case)."""


def validate(report: Mapping[str, Any], case_id: str) -> None:
    """Raise FintracStructureError naming the case and the failing path (never the value)."""
    error = structure.first_error(SCHEMA_FILE, report)
    if error is not None:
        where, keyword = error
        raise FintracStructureError(f"case {case_id}: FINTRAC STR fails its structure at {where} ({keyword})")


def build(draft: Mapping[str, Any]) -> bytes:
    """The STR JSON for one draft (UTF-8), checked against its structure."""
    inst, subject = draft["institution"], draft["subject"]
    rates = Rates.of(draft)
    payments = [t for t in draft["transactions"] if t["direction"] == "out"]
    payees = _payees(payments)
    phones = {p["counterparty_id"]: p.get("phone") for p in draft["payees"]}
    hubs = hub_payees(draft)
    report = {
        "reportDetails": {
            "reportTypeCode": REPORT_TYPE_CODE,
            "submitTypeCode": SUBMIT_TYPE_CODE,
            "activitySectorCode": _sector(inst),
            "reportingEntityNumber": _number(inst.get("fintrac_re_number")),
            "submittingReportingEntityNumber": _number(inst.get("fintrac_re_number")),
            "reportingEntityReportReference": reference(draft["case_id"], 100),
            "reportingEntityContactId": _number(inst.get("fintrac_contact_id")),
        },
        "detailsOfSuspicion": {
            "descriptionOfSuspiciousActivity": xml_text(
                f"#ProjectShadow. {upper_first(draft['wording'])}.\n\n{narrative(draft, form='fintrac')}"
            ),
            "suspicionTypeCode": SUSPICION_TYPE_CODE,
            "publicPrivatePartnershipProjectNameCodes": [PROJECT_SHADOW],
            "politicallyExposedPersonIncludedIndicator": False,
        },
        "actionTaken": {"description": ACTION_TAKEN},
        "relatedReports": [],
        "definitions": [
            _subject(subject),
            *(
                _payee(t, ref, t.get("counterparty_phone") or phones.get(t.get("counterparty_id")), hubs)
                for ref, t in payees.values()
            ),
        ],
        "transactions": [_transaction(draft, t, payees, rates, hubs) for t in payments],
    }
    validate(report, draft["case_id"])
    return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def total_cad(draft: Mapping[str, Any]) -> Decimal:
    """The reported payments in Canadian dollars, each converted at the rate of its day."""
    return Rates.of(draft).total_out(draft, CURRENCY)


def reference(value: Any, limit: int) -> str:
    """A reference in the API's alphabet (letters, digits, '-' and '_'), other characters as '-'."""
    return _REFERENCE.sub("-", str(value))[:limit] or "-"


def _subject(subject: Mapping[str, Any]) -> dict[str, Any]:
    first, last = split_name(subject.get("full_name"))
    person: dict[str, Any] = {"typeCode": CONDUCTOR, "refId": "subject"}
    if last:
        person["surname"] = _text(last, 100)
    if first:
        person["givenName"] = _text(first, 100)
    address: dict[str, int | str] = {"typeCode": 1}
    for key, value, limit in (
        ("streetAddress", subject.get("address_line"), 100),
        ("city", subject.get("city"), 100),
        ("postalZipCode", subject.get("postcode"), 20),
    ):
        if value:
            address[key] = _text(value, limit)
    if _alpha2(subject.get("residence_country")):
        address["countryCode"] = subject["residence_country"]
    person["addressTypeCode"] = 1
    person["address"] = address
    if subject.get("birth_date"):
        person["dateOfBirth"] = str(subject["birth_date"])[:10]
    if _alpha2(subject.get("residence_country")):
        person["countryOfResidenceCode"] = subject["residence_country"]
    if _alpha2(subject.get("nationality")):
        person["countryOfCitizenshipCode"] = subject["nationality"]
    if subject.get("occupation"):
        person["occupation"] = _text(subject["occupation"], 200)
    identifications = []
    if subject.get("id_number"):
        ident: dict[str, Any] = {
            "identifierTypeOther": _text(subject.get("id_type") or "identification", 200),
            "number": _text(subject["id_number"], 100),
        }
        if _alpha2(subject.get("nationality")):
            ident["jurisdictionOfIssueCountryCode"] = subject["nationality"]
        identifications.append(ident)
    person["identifications"] = identifications
    return person


def _payees(payments: list[Mapping[str, Any]]) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """Each payee once, by counterparty id (or name), with its refId."""
    found: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for txn in payments:
        key = str(txn.get("counterparty_id") or txn.get("counterparty_name") or txn["txn_id"])
        if key not in found:
            found[key] = (f"payee-{len(found) + 1}", txn)
    return found


def _payee(txn: Mapping[str, Any], ref: str, phone: Any, hubs: frozenset[str]) -> dict[str, Any]:
    country = txn.get("counterparty_country")
    address: dict[str, Any] = {
        "typeCode": 2,
        "unstructured": _text(txn.get("counterparty_city") or "unknown", 500),
    }
    if _alpha2(country):
        address["countryCode"] = country
    if is_business(txn, hubs):
        entity: dict[str, Any] = {"typeCode": ENTITY, "refId": ref}
        if txn.get("counterparty_name"):
            entity["nameOfEntity"] = _text(txn["counterparty_name"], 100)
        entity.update(addressTypeCode=2, address=address)
        if phone:
            entity["telephoneNumber"] = _text(phone, 20)
        kind = business_kind(txn)
        if kind:
            entity["natureOfPrincipalBusiness"] = kind
        entity.update(registrationsIncorporations=[], identifications=[], authorizedPersons=[])
        return entity
    first, last = split_name(txn.get("counterparty_name"))
    person: dict[str, Any] = {"typeCode": PERSON, "refId": ref}
    if last:
        person["surname"] = _text(last, 100)
    if first:
        person["givenName"] = _text(first, 100)
    person.update(addressTypeCode=2, address=address)
    if phone:
        person["telephoneNumber"] = _text(phone, 20)
    if _alpha2(country):
        person["countryOfResidenceCode"] = country
    person["identifications"] = []
    return person


def _transaction(
    draft: Mapping[str, Any],
    txn: Mapping[str, Any],
    payees: Mapping[str, tuple[str, Mapping[str, Any]]],
    rates: Rates,
    hubs: frozenset[str],
) -> dict[str, Any]:
    booked = str(txn["booked_at"])
    key = str(txn.get("counterparty_id") or txn.get("counterparty_name") or txn["txn_id"])
    payee_ref = payees[key][0]
    amount = _amount(Decimal(str(txn["amount"])))
    cad = rates.convert(txn["amount"], txn["currency"], CURRENCY, booked)
    wallet = (
        [txn["counterparty_account"]]
        if txn.get("counterparty_account") and txn["channel"] in WALLET_CHANNELS
        else []
    )
    accounts = subject_accounts(draft)
    starting: dict[str, Any] = {
        "amount": amount,
        "currencyCode": txn["currency"],
        "virtualCurrencyTransactionIds": [],
        "sendingVirtualCurrencyAddresses": [],
        "receivingVirtualCurrencyAddresses": wallet,
        "referenceNumber": _text(txn["txn_id"], 200),
        "sourcesOfFundsOrVirtualCurrencyIndicator": False,
        "conductorIndicator": True,
    }
    if accounts:
        starting["account"] = {
            "number": _text(txn.get("account_id") or accounts[0], 100),
            "currencyCode": txn["currency"],
            "holders": [{"typeCode": 1, "refId": "subject"}],
        }
    conductor: dict[str, Any] = {"clientNumber": _text(draft["subject"]["customer_id"], 100)}
    if txn.get("ip_address") and fincen.is_public_ip(str(txn["ip_address"])):
        conductor["internetProtocolAddress"] = str(txn["ip_address"])
        conductor["dateTimeOfOnlineSession"] = f"{booked[:19]}+00:00"
    conductor["onBehalfOfIndicator"] = False
    completing: dict[str, Any] = {
        "amount": amount,
        "currencyCode": txn["currency"],
        "valueInCanadianDollars": _amount(cad),
        "virtualCurrencyTransactionIds": [],
        "sendingVirtualCurrencyAddresses": [],
        "receivingVirtualCurrencyAddresses": wallet,
        "involvementIndicator": False,
        "beneficiaryIndicator": True,
    }
    if txn["currency"] != CURRENCY:
        completing["exchangeRate"] = _rate(rates.rate(txn["currency"], CURRENCY, booked))
    if txn.get("counterparty_account"):
        completing["account"] = {
            "number": _text(txn["counterparty_account"], 100),
            "holders": [{"typeCode": 2 if is_business(txn, hubs) else 1, "refId": payee_ref}],
        }
    details: dict[str, Any] = {
        "attemptedTransactionIndicator": False,
        "dateOfTransaction": booked[:10],
        "timeOfTransaction": f"{booked[11:19]}+00:00",
        "reportingEntityTransactionReference": reference(txn["txn_id"], 200),
    }
    return {
        "reportingEntityLocationId": reference(draft["institution"].get("fintrac_location_id") or "0", 30),
        "suspiciousTransactionDetails": details,
        "startingActions": [
            {
                "details": starting,
                "sourcesOfFundsOrVirtualCurrency": [],
                "conductors": [
                    {"typeCode": CONDUCTOR, "refId": "subject", "details": conductor, "onBehalfOfs": []}
                ],
            }
        ],
        "completingActions": [
            {
                "details": completing,
                "involvements": [],
                "beneficiaries": [
                    {"typeCode": ENTITY if is_business(txn, hubs) else PERSON, "refId": payee_ref}
                ],
            }
        ],
    }


def _sector(inst: Mapping[str, Any]) -> int:
    words = str(inst.get("institution_type") or "").lower()
    return next((code for key, code in ACTIVITY_SECTORS.items() if key in words), 2)


def _number(value: Any) -> int:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else 0


def _amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):.2f}"


def _rate(value: Decimal) -> str:
    return f"{value:.6f}"


def _text(value: Any, limit: int) -> str:
    return one_line(value)[:limit]


def _alpha2(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 2 and value.isalpha()
