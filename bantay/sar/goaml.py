"""goAML STR (UNODC goAML `<report>`, no namespace) from a draft, built with lxml.

Structure after the goAML 5.0.x schemas (shared/formats/goaml.md): reporting entity, reason, one
`<transaction>` per reported payment with the sender as the institution's own client (`t_from_my_client`)
and the receiver abroad (`t_to`), and the report indicators. Every FIU-specific code comes from the YAML
configuration (`goaml_default.yaml`, overridden by `settings.goaml_config`); when `settings.goaml_xsd` names
the FIU's schema, each report is validated against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from bantay.errors import BantayError, ConfigError
from bantay.features.payees import CALLING_CODES
from bantay.sar.fincen import split_name
from bantay.sar.text import Clipper, Truncation

COMMENTS_LIMIT = 8000
NAME_LIMIT = 100


class GoamlSchemaError(BantayError):
    """A goAML report does not validate against the configured FIU schema."""


def load_config(path: Path | None = None) -> dict[str, Any]:
    """The default configuration with the keys of `path` (a YAML mapping) merged over it."""
    with resources.files("bantay.sar").joinpath("goaml_default.yaml").open("r", encoding="utf-8") as handle:
        config: dict[str, Any] = yaml.safe_load(handle)
    if path is None:
        return config
    if not Path(path).is_file():
        raise ConfigError(f"goaml_config={path}: no such file")
    with Path(path).open("r", encoding="utf-8") as handle:
        override = yaml.safe_load(handle) or {}
    if not isinstance(override, dict):
        raise ConfigError(f"goaml_config={path}: expected a YAML mapping of settings")
    unknown = sorted(set(override) - set(config))
    if unknown:
        raise ConfigError(
            f"goaml_config={path}: unknown keys {', '.join(unknown)} (see bantay/sar/goaml_default.yaml)"
        )
    for key, value in override.items():
        config[key] = (
            {**config[key], **value}
            if isinstance(config.get(key), dict) and isinstance(value, dict)
            else value
        )
    return config


@cache
def _schema(path: str) -> etree.XMLSchema:
    try:
        return etree.XMLSchema(etree.parse(path))
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as error:
        raise ConfigError(f"goaml_xsd={path}: cannot load the schema ({error})") from None


def build(
    draft: Mapping[str, Any], config: Mapping[str, Any], xsd: Path | None = None
) -> tuple[bytes, list[Truncation]]:
    """The STR for one draft and the clips made; validated against `xsd` when given."""
    from bantay.sar.narrative import narrative

    clip = Clipper("goaml_str.xml")
    inst, subject = draft["institution"], draft["subject"]
    local = config.get("currency_code_local") or draft["reporting_currency"]
    unknown = str(config["unknown_text"])
    report = etree.Element("report")

    def add(parent: etree._Element, name: str, text: Any = None) -> etree._Element:
        child = etree.SubElement(parent, name)
        if text is not None:
            child.text = str(text)
        return child

    if config.get("schema_version"):
        add(report, "schema_version", config["schema_version"])
    add(report, "rentity_id", inst.get("goaml_reporting_entity_id") or "0")
    if config.get("rentity_branch"):
        add(report, "rentity_branch", clip.line(config["rentity_branch"], 255, "rentity_branch"))
    add(report, "submission_code", config["submission_code"])
    add(report, "report_code", config["report_code"])
    add(report, "entity_reference", draft["case_id"])
    add(report, "submission_date", _sql_date(draft["generated_at"]))
    add(report, "currency_code_local", local)
    if config.get("reporting_user_code"):
        add(
            report,
            "reporting_user_code",
            clip.line(config["reporting_user_code"], 255, "reporting_user_code"),
        )
    else:
        person = add(report, "reporting_person")
        add(person, "first_name", "Nominated officer")
        add(
            person,
            "last_name",
            clip.line(inst.get("contact_office") or unknown, NAME_LIMIT, "reporting_person/last_name"),
        )
    location = add(report, "location")
    _address(
        add,
        clip,
        location,
        config["business_contact_type"],
        inst.get("address"),
        inst.get("city"),
        inst.get("postcode"),
        inst.get("country"),
        inst.get("state"),
        unknown,
        "location",
    )
    add(
        report,
        "reason",
        clip.text(f"{draft['wording'].capitalize()}.\n\n{narrative(draft)}", COMMENTS_LIMIT, "reason"),
    )
    add(report, "action", clip.text(config["action"], COMMENTS_LIMIT, "action"))

    payments = [t for t in draft["transactions"] if t["direction"] == "out"]
    for txn in payments:
        _transaction(add, clip, report, txn, subject, config, local, unknown)
    indicators = add(report, "report_indicators")
    for code in config["indicators"]:
        add(indicators, "indicator", code)

    document = etree.ElementTree(report)
    if xsd is not None:
        schema = _schema(str(xsd))
        if not schema.validate(document):
            first = schema.error_log.filter_from_errors()[0]
            raise GoamlSchemaError(
                f"case {draft['case_id']}: goAML XML invalid at line {first.line}: {first.message}"
            )
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True), clip.notes


def _transaction(
    add: Any,
    clip: Clipper,
    report: etree._Element,
    txn: Mapping[str, Any],
    subject: Mapping[str, Any],
    config: Mapping[str, Any],
    local: str,
    unknown: str,
) -> None:
    channel = txn["channel"] or ""
    element = add(report, "transaction")
    add(element, "transactionnumber", clip.line(txn["txn_id"], 100, "transactionnumber"))
    add(
        element,
        "transaction_location",
        clip.line(config["transaction_location"], 255, "transaction_location"),
    )
    description = f"{channel} payment abroad, {txn['amount']:.2f} {txn['currency']}"
    if txn.get("reference"):
        description += f"; reference: {txn['reference']}"
    if txn.get("indicators"):
        description += f"; indicators: {', '.join(txn['indicators'])}"
    add(element, "transaction_description", clip.text(description, COMMENTS_LIMIT, "transaction_description"))
    add(element, "date_transaction", _sql_date(txn["booked_at"]))
    add(element, "transmode_code", config["transmode_codes"].get(channel, config["default_transmode_code"]))
    add(element, "transmode_comment", clip.line(channel or unknown, 50, "transmode_comment"))
    add(element, "amount_local", f"{(txn['amount_reporting'] or 0):.2f}")

    sender = add(element, "t_from_my_client")
    add(sender, "from_funds_code", config["from_funds_codes"].get(channel, config["default_funds_code"]))
    if txn["currency"] != local and txn.get("amount_reporting"):
        foreign = add(sender, "from_foreign_currency")
        add(foreign, "foreign_currency_code", txn["currency"])
        add(foreign, "foreign_amount", f"{txn['amount']:.2f}")
        add(foreign, "foreign_exchange_rate", f"{txn['amount_reporting'] / txn['amount']:.6f}")
    add(sender, "from_is_suspected", "true")
    _client(add, clip, add(sender, "from_person"), subject, config, unknown)
    add(sender, "from_country", subject.get("residence_country") or unknown)

    receiver = add(element, "t_to")
    add(receiver, "to_funds_code", config["to_funds_codes"].get(channel, config["default_funds_code"]))
    first, last = split_name(txn.get("counterparty_name"))
    person = add(receiver, "to_person")
    add(person, "first_name", clip.line(first or unknown, NAME_LIMIT, "to_person/first_name"))
    add(person, "last_name", clip.line(last or unknown, NAME_LIMIT, "to_person/last_name"))
    if txn.get("counterparty_country"):
        add(person, "residence", txn["counterparty_country"])
    add(receiver, "to_country", txn.get("counterparty_country") or unknown)


def _client(
    add: Any,
    clip: Clipper,
    person: etree._Element,
    subject: Mapping[str, Any],
    config: Mapping[str, Any],
    unknown: str,
) -> None:
    """A `t_person_my_client`: the fields that type requires, UNKNOWN (configurable) where KYC lacks them."""
    gender = config["gender_codes"].get(str(subject.get("gender") or "").upper())
    if gender:
        add(person, "gender", gender)
    first, last = split_name(subject.get("full_name"))
    add(person, "first_name", clip.line(first or unknown, NAME_LIMIT, "from_person/first_name"))
    add(person, "last_name", clip.line(last or unknown, NAME_LIMIT, "from_person/last_name"))
    if subject.get("birth_date"):  # validated KYC always has one; never invent it
        add(person, "birthdate", _sql_date(subject["birth_date"]))
    id_type = str(subject.get("id_type") or "").strip().lower().replace(" ", "_")
    id_number = clip.line(subject.get("id_number"), 25, "from_person/ssn") or unknown
    add(person, "ssn", id_number)
    if subject.get("id_number") and id_type == "passport":
        add(person, "passport_number", clip.line(subject["id_number"], 255, "from_person/passport_number"))
        if subject.get("nationality"):
            add(person, "passport_country", subject["nationality"])
    if subject.get("id_number"):  # some FIUs (the UAE's) require id_number after the passport block
        add(person, "id_number", clip.line(subject["id_number"], 255, "from_person/id_number"))
    if subject.get("nationality"):
        add(person, "nationality1", subject["nationality"])
    if subject.get("residence_country"):
        add(person, "residence", subject["residence_country"])
    phones = add(person, "phones")
    phone = add(phones, "phone")
    add(phone, "tph_contact_type", config["contact_type"])
    add(phone, "tph_communication_type", config["communication_type"])
    add(phone, "tph_country_prefix", _calling_code(subject.get("residence_country")) or "0")
    add(phone, "tph_number", unknown)
    if subject.get("address_line"):
        addresses = add(person, "addresses")
        _address(
            add,
            clip,
            add(addresses, "address"),
            config["contact_type"],
            subject.get("address_line"),
            subject.get("city"),
            subject.get("postcode"),
            subject.get("residence_country"),
            None,
            unknown,
            "from_person/address",
        )
    add(person, "occupation", clip.line(subject.get("occupation") or unknown, 255, "from_person/occupation"))
    code = config["identifier_types"].get(id_type)
    if code and subject.get("id_number") and subject.get("nationality"):
        ident = add(person, "identification")
        add(ident, "type", code)
        add(ident, "number", clip.line(subject["id_number"], 255, "identification/number"))
        add(ident, "issue_country", subject["nationality"])


def _address(
    add: Any,
    clip: Clipper,
    parent: etree._Element,
    contact_type: str,
    street: Any,
    city: Any,
    postcode: Any,
    country: Any,
    state: Any,
    unknown: str,
    where: str,
) -> None:
    add(parent, "address_type", contact_type)
    add(parent, "address", clip.line(street or unknown, 100, f"{where}/address"))
    add(parent, "city", clip.line(city or unknown, 255, f"{where}/city"))
    if postcode:
        add(parent, "zip", clip.line(postcode, 10, f"{where}/zip"))
    add(parent, "country_code", country or unknown)
    if state:
        add(parent, "state", clip.line(state, 255, f"{where}/state"))


def _sql_date(stamp: str) -> str:
    """goAML `sql_date` (xs:dateTime, no zone): 'YYYY-MM-DDThh:mm:ss' from an ISO date or UTC timestamp."""
    text = stamp.rstrip("Z")
    return text if "T" in text else f"{text}T00:00:00"


def _calling_code(country: Any) -> str | None:
    entry = CALLING_CODES.get(str(country or "").upper())
    return entry[0] if entry else None
