"""goAML STR (UNODC goAML `<report>`, no namespace) from a draft, built with lxml.

Structure after the goAML 5.0.x schemas (docs/formats.md): reporting entity, reason, one `<transaction>` per
reported payment with the sender as the institution's own client (`t_from_my_client`: the subject's account
as `from_account`, its holder as signatory) and the receiver (`t_to`): `to_entity` for a merchant or other
business, `to_account` where the payee holds an account or wallet (with the payee's phone), else `to_person`.
`amount_local` is the payment converted into the FIU's local currency at the ledger's rate of the booking day
(`fx_rates` in the draft). Every FIU-specific code comes from the YAML configuration
(`goaml_default.yaml`, overridden by `settings.goaml_config`). Each report is validated against the test
schema shipped in bantay/sar/schemas/ (the documented 5.0.x element order, no wildcards) and, when
`settings.goaml_xsd` names the FIU's own schema, against that too.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from bantay.errors import BantayError, ConfigError
from bantay.features.payees import CALLING_CODES
from bantay.sar.fincen import split_name, subject_accounts
from bantay.sar.fx import FxRateError, Rates
from bantay.sar.text import Clipper, Truncation, upper_first

COMMENTS_LIMIT = 8000
NAME_LIMIT = 100
TEST_SCHEMA_FILE = "goaml_5_0_test.xsd"
# Channels whose counterparty account is a wallet rather than a bank account.
WALLET_CHANNELS = {"wallet", "crypto"}
# Merchant category codes that say how money was sent to a person, not what the payee is: money transfer.
PERSON_TRANSFER_MCCS = frozenset({"4829"})


class GoamlSchemaError(BantayError):
    """A goAML report does not validate against the test schema or the configured FIU schema."""


class GoamlConfigError(ConfigError):
    """The goAML settings cannot give a valid report (e.g. no reporting-entity id)."""


def test_schema() -> etree.XMLSchema:
    """The shipped goAML test schema (5.0.x element order, strict: no xs:any)."""
    path = resources.files("bantay.sar").joinpath("schemas", TEST_SCHEMA_FILE)
    return _schema(str(path))


def rentity_id(institution: Mapping[str, Any]) -> str:
    """The FIU-assigned reporting-entity id: an integer of at least 1 (0 is goAML's "not registered")."""
    text = str(institution.get("goaml_reporting_entity_id") or "").strip()
    if not text.isdigit() or int(text) < 1:
        raise GoamlConfigError(
            "goAML rentity_id must be the id the FIU assigned to the institution (an integer >= 1): "
            "set BANTAY_INSTITUTION__GOAML_REPORTING_ENTITY_ID"
        )
    return str(int(text))


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
    """The STR for one draft and the clips made; validated against the test schema and `xsd` when given."""
    from bantay.sar.narrative import narrative

    clip = Clipper("goaml_str.xml")
    inst = draft["institution"]
    local = config.get("currency_code_local") or draft["reporting_currency"]
    unknown = str(config["unknown_text"])
    rates = Rates.of(draft)
    report = etree.Element("report")

    def add(parent: etree._Element, name: str, text: Any = None) -> etree._Element:
        child = etree.SubElement(parent, name)
        if text is not None:
            child.text = str(text)
        return child

    if config.get("schema_version"):
        add(report, "schema_version", config["schema_version"])
    entity_id = rentity_id(inst)
    add(report, "rentity_id", entity_id)
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
        clip.text(
            f"{upper_first(draft['wording'])}.\n\n{narrative(draft, form='goaml')}", COMMENTS_LIMIT, "reason"
        ),
    )
    add(report, "action", clip.text(config["action"], COMMENTS_LIMIT, "action"))

    parties = _Parties(add, clip, draft, config, unknown, entity_id)
    for txn in (t for t in draft["transactions"] if t["direction"] == "out"):
        _transaction(add, clip, report, txn, parties, config, local, rates, unknown)
    indicators = add(report, "report_indicators")
    for code in config["indicators"]:
        add(indicators, "indicator", code)

    document = etree.ElementTree(report)
    _validate(document, test_schema(), draft["case_id"], "the goAML test schema")
    if xsd is not None:
        _validate(document, _schema(str(xsd)), draft["case_id"], str(xsd))
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True), clip.notes


def _validate(document: etree._ElementTree, schema: etree.XMLSchema, case_id: str, name: str) -> None:
    if not schema.validate(document):
        first = schema.error_log.filter_from_errors()[0]
        raise GoamlSchemaError(
            f"case {case_id}: goAML XML invalid against {name} at line {first.line}: {first.message}"
        )


def amount_local(txn: Mapping[str, Any], local: str, reporting: str, rates: Rates) -> Decimal:
    """The payment in the FIU's local currency: its own amount when sent in that currency, else converted at
    the ledger's rate of its booking day (never the reporting-currency figure relabelled)."""
    if txn["currency"] == local:
        return Decimal(str(txn["amount"])).quantize(Decimal("0.01"))
    if local == reporting and txn.get("amount_reporting") is not None:
        return Decimal(str(txn["amount_reporting"])).quantize(Decimal("0.01"))
    return rates.convert(txn["amount"], txn["currency"], local, txn["booked_at"])


def _rate(txn: Mapping[str, Any], local: str, local_amount: Decimal, rates: Rates) -> Decimal:
    """Local units per unit of the payment's currency: the recorded rate, else the amounts' ratio."""
    try:
        return rates.rate(txn["currency"], local, txn["booked_at"])
    except FxRateError:
        return local_amount / Decimal(str(txn["amount"]))


def hub_payees(draft: Mapping[str, Any]) -> frozenset[str]:
    """Counterparty ids of the draft's payees in a hub cluster (`is_hub`: paid by a large share of the
    institution's customers paying abroad, i.e. an exchange, money-service business or merchant)."""
    hubs = {str(c["cluster_id"]) for c in draft.get("clusters") or [] if c.get("is_hub")}
    ids = {str(i) for c in draft.get("clusters") or [] if c.get("is_hub") for i in c.get("payee_ids") or []}
    ids |= {str(p["counterparty_id"]) for p in draft.get("payees") or [] if str(p.get("cluster_id")) in hubs}
    return frozenset(ids)


def is_business(txn: Mapping[str, Any], hubs: Collection[str] = frozenset()) -> bool:
    """A merchant or other business: a card payment, a payee in a hub cluster (`hubs`, from `hub_payees`:
    an exchange, money-service business or merchant paid by hundreds of senders), or a payment with a
    merchant category code other than money transfer (4829). On a remittance, transfer or wallet payment,
    4829 names the transfer service the money went through, not the payee: the payee is whoever the row
    names, a person unless another field says otherwise. Quasi-cash (6051) and stored-value loads (6540) are
    bought from a business. The one rule the goAML and FINTRAC forms both use."""
    mcc = str(txn.get("mcc") or "")
    return (
        txn.get("channel") == "card"
        or str(txn.get("counterparty_id") or "") in hubs
        or (bool(mcc) and mcc not in PERSON_TRANSFER_MCCS)
    )


def business_kind(txn: Mapping[str, Any]) -> str | None:
    """What a business payee does, as far as the row says: its merchant category, or for a crypto payment to
    a hub, a virtual-currency exchange; None when the row says nothing."""
    if txn.get("mcc"):
        return f"merchant category {txn['mcc']}"
    if txn.get("channel") == "crypto":
        return "virtual currency exchange (paid by many senders)"
    return None


class _Parties:
    """Writes the two sides of a transaction."""

    def __init__(
        self,
        add: Any,
        clip: Clipper,
        draft: Mapping[str, Any],
        config: Mapping[str, Any],
        unknown: str,
        entity_id: str,
    ) -> None:
        self.add, self.clip, self.draft, self.config, self.unknown = add, clip, draft, config, unknown
        self.entity_id = entity_id
        self.accounts = subject_accounts(draft)
        self.phones = {p["counterparty_id"]: p.get("phone") for p in draft["payees"]}
        self.hubs = hub_payees(draft)

    def sender(self, parent: etree._Element, txn: Mapping[str, Any]) -> None:
        """`from_account` (the subject's account, the subject as its signatory) or, with no account known,
        `from_person`."""
        add, clip, subject, config = self.add, self.clip, self.draft["subject"], self.config
        account_id = str(txn.get("account_id") or (self.accounts[0] if self.accounts else ""))
        if not account_id:
            _client(add, clip, add(parent, "from_person"), subject, config, self.unknown)
            return
        inst = self.draft["institution"]
        account = add(parent, "from_account")
        add(
            account, "institution_name", clip.line(inst.get("name") or self.unknown, 255, "from_account/name")
        )
        if config.get("swift"):
            add(account, "swift", config["swift"])
        else:
            add(account, "institution_code", config.get("institution_code") or self.entity_id)
        if inst.get("country"):
            add(account, "institution_country", inst["country"])
        add(
            account,
            "branch",
            clip.line(config.get("rentity_branch") or self.unknown, 255, "from_account/branch"),
        )
        add(account, "account", clip.line(account_id, 50, "from_account/account"))
        add(account, "currency_code", self._account_currency(account_id))
        add(
            account,
            "account_name",
            clip.line(subject.get("full_name") or self.unknown, 255, "from_account/account_name"),
        )
        add(account, "client_number", clip.line(subject["customer_id"], 30, "from_account/client_number"))
        add(account, "personal_account_type", config["account_type_code"])
        signatory = add(account, "signatory")
        add(signatory, "is_primary", "true")
        _person(add, clip, add(signatory, "t_person"), subject, config, self.unknown)
        # The ledger holds no account opening date: the customer's onboarding date is the earliest it can be.
        add(account, "opened", _sql_date(subject.get("onboarded_at") or self.draft["as_of"]))
        add(account, "status_code", config["account_status_code"])

    def receiver(self, parent: etree._Element, txn: Mapping[str, Any]) -> None:
        """`to_entity` for a business without an account, `to_account` for a payee with an account or
        wallet (holder as signatory or entity), else `to_person`."""
        add, clip, unknown = self.add, self.clip, self.unknown
        account_number = txn.get("counterparty_account")
        if account_number:
            account = add(parent, "to_account")
            wallet = txn.get("channel") in WALLET_CHANNELS
            add(account, "institution_name", self.config["payee_institution_text"])
            add(account, "institution_code", self.config["payee_institution_text"])
            if txn.get("counterparty_country"):
                add(account, "institution_country", txn["counterparty_country"])
            if wallet:
                add(account, "non_bank_institution", "true")
            add(account, "account", clip.line(account_number, 50, "to_account/account"))
            if txn.get("counterparty_name"):
                add(
                    account,
                    "account_name",
                    clip.line(txn["counterparty_name"], 255, "to_account/account_name"),
                )
            if is_business(txn, self.hubs):
                self._entity(add(account, "t_entity"), txn)
            else:
                signatory = add(account, "signatory")
                self._payee_person(add(signatory, "t_person"), txn)
            if wallet:
                add(account, "comments", f"wallet ({txn.get('channel')})")
        elif is_business(txn, self.hubs):
            self._entity(add(parent, "to_entity"), txn)
        else:
            self._payee_person(add(parent, "to_person"), txn)
        add(parent, "to_country", txn.get("counterparty_country") or unknown)

    def _entity(self, entity: etree._Element, txn: Mapping[str, Any]) -> None:
        """A merchant as a `t_entity`: its name as captured (never split into first and last names)."""
        add, clip = self.add, self.clip
        add(entity, "name", clip.line(txn.get("counterparty_name") or self.unknown, 255, "t_entity/name"))
        kind = business_kind(txn)
        if kind:
            add(entity, "business", kind)
        self._phones(entity, txn)
        if txn.get("counterparty_country"):
            add(entity, "incorporation_country_code", txn["counterparty_country"])

    def _payee_person(self, person: etree._Element, txn: Mapping[str, Any]) -> None:
        add, clip, unknown = self.add, self.clip, self.unknown
        first, last = split_name(txn.get("counterparty_name"))
        add(person, "first_name", clip.line(first or unknown, NAME_LIMIT, "to_person/first_name"))
        add(person, "last_name", clip.line(last or unknown, NAME_LIMIT, "to_person/last_name"))
        if txn.get("counterparty_country"):
            add(person, "residence", txn["counterparty_country"])
        self._phones(person, txn)

    def _phones(self, parent: etree._Element, txn: Mapping[str, Any]) -> None:
        phone = txn.get("counterparty_phone") or self.phones.get(txn.get("counterparty_id"))
        if not phone:
            return
        prefix, number = _split_phone(str(phone), txn.get("counterparty_country"))
        phones = self.add(parent, "phones")
        entry = self.add(phones, "phone")
        self.add(entry, "tph_contact_type", self.config["contact_type"])
        self.add(entry, "tph_communication_type", self.config["communication_type"])
        self.add(entry, "tph_country_prefix", prefix)
        self.add(entry, "tph_number", self.clip.line(number or self.unknown, 50, "tph_number"))

    def _account_currency(self, account_id: str) -> str:
        sent = [
            t["currency"] for t in self.draft["transactions"] if str(t.get("account_id") or "") == account_id
        ]
        sent = sent or [t["currency"] for t in self.draft["transactions"]]
        return str(max(sorted(set(sent)), key=sent.count) if sent else self.draft["reporting_currency"])


def _transaction(
    add: Any,
    clip: Clipper,
    report: etree._Element,
    txn: Mapping[str, Any],
    parties: _Parties,
    config: Mapping[str, Any],
    local: str,
    rates: Rates,
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
    description = f"{channel} payment, {txn['amount']:.2f} {txn['currency']}"
    if txn.get("reference"):
        description += f"; reference: {txn['reference']}"
    if txn.get("indicators"):
        description += f"; indicators: {', '.join(txn['indicators'])}"
    add(element, "transaction_description", clip.text(description, COMMENTS_LIMIT, "transaction_description"))
    add(element, "date_transaction", _sql_date(txn["booked_at"]))
    add(element, "transmode_code", config["transmode_codes"].get(channel, config["default_transmode_code"]))
    add(element, "transmode_comment", clip.line(channel or unknown, 50, "transmode_comment"))
    local_amount = amount_local(txn, local, parties.draft["reporting_currency"], rates)
    add(element, "amount_local", f"{local_amount:.2f}")

    sender = add(element, "t_from_my_client")
    add(sender, "from_funds_code", config["from_funds_codes"].get(channel, config["default_funds_code"]))
    if txn["currency"] != local:
        foreign = add(sender, "from_foreign_currency")
        add(foreign, "foreign_currency_code", txn["currency"])
        add(foreign, "foreign_amount", f"{Decimal(str(txn['amount'])):.2f}")
        add(foreign, "foreign_exchange_rate", f"{_rate(txn, local, local_amount, rates):.6f}")
    add(sender, "from_is_suspected", "true")
    parties.sender(sender, txn)
    add(sender, "from_country", parties.draft["subject"].get("residence_country") or unknown)

    receiver = add(element, "t_to")
    add(receiver, "to_funds_code", config["to_funds_codes"].get(channel, config["default_funds_code"]))
    parties.receiver(receiver, txn)


def _person(
    add: Any,
    clip: Clipper,
    person: etree._Element,
    subject: Mapping[str, Any],
    config: Mapping[str, Any],
    unknown: str,
) -> None:
    """The subject as a plain `t_person` (an account's signatory): names, birth date, the passport in its
    own elements, nationality, residence, address, occupation and the id as `identification` with its type;
    no `ssn` unless the id is one."""
    gender = config["gender_codes"].get(str(subject.get("gender") or "").upper())
    if gender:
        add(person, "gender", gender)
    first, last = split_name(subject.get("full_name"))
    add(person, "first_name", clip.line(first or unknown, NAME_LIMIT, "t_person/first_name"))
    add(person, "last_name", clip.line(last or unknown, NAME_LIMIT, "t_person/last_name"))
    if subject.get("birth_date"):
        add(person, "birthdate", _sql_date(subject["birth_date"]))
    id_type, number = _id(subject)
    if number and id_type in SSN_TYPES:
        add(person, "ssn", clip.line(number, 25, "t_person/ssn"))
    if number and id_type == "passport":
        add(person, "passport_number", clip.line(number, 255, "t_person/passport_number"))
        if subject.get("nationality"):
            add(person, "passport_country", subject["nationality"])
    if subject.get("nationality"):
        add(person, "nationality1", subject["nationality"])
    if subject.get("residence_country"):
        add(person, "residence", subject["residence_country"])
    _client_address(add, clip, person, subject, config, unknown, "t_person/address")
    if subject.get("occupation"):
        add(person, "occupation", clip.line(subject["occupation"], 255, "t_person/occupation"))
    _identification(add, clip, person, subject, config)


def _client(
    add: Any,
    clip: Clipper,
    person: etree._Element,
    subject: Mapping[str, Any],
    config: Mapping[str, Any],
    unknown: str,
) -> None:
    """A `t_person_my_client` (no account known): the fields that type requires, UNKNOWN (configurable)
    where KYC lacks them; the id goes to `ssn` only when it is one, else to passport and identification."""
    gender = config["gender_codes"].get(str(subject.get("gender") or "").upper())
    if gender:
        add(person, "gender", gender)
    first, last = split_name(subject.get("full_name"))
    add(person, "first_name", clip.line(first or unknown, NAME_LIMIT, "from_person/first_name"))
    add(person, "last_name", clip.line(last or unknown, NAME_LIMIT, "from_person/last_name"))
    if subject.get("birth_date"):  # validated KYC always has one; never invent it
        add(person, "birthdate", _sql_date(subject["birth_date"]))
    id_type, number = _id(subject)
    ssn = number if number and id_type in SSN_TYPES else None
    add(person, "ssn", clip.line(ssn or unknown, 25, "from_person/ssn"))
    if number and id_type == "passport":
        add(person, "passport_number", clip.line(number, 255, "from_person/passport_number"))
        if subject.get("nationality"):
            add(person, "passport_country", subject["nationality"])
    add(person, "nationality1", subject.get("nationality") or unknown)
    add(person, "residence", subject.get("residence_country") or unknown)
    phones = add(person, "phones")
    phone = add(phones, "phone")
    add(phone, "tph_contact_type", config["contact_type"])
    add(phone, "tph_communication_type", config["communication_type"])
    add(phone, "tph_country_prefix", _calling_code(subject.get("residence_country")) or "0")
    add(phone, "tph_number", unknown)
    _client_address(add, clip, person, subject, config, unknown, "from_person/address")
    add(person, "occupation", clip.line(subject.get("occupation") or unknown, 255, "from_person/occupation"))
    _identification(add, clip, person, subject, config)


def _client_address(
    add: Any,
    clip: Clipper,
    person: etree._Element,
    subject: Mapping[str, Any],
    config: Mapping[str, Any],
    unknown: str,
    where: str,
) -> None:
    if not subject.get("address_line"):
        return
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
        where,
    )


def _identification(
    add: Any, clip: Clipper, person: etree._Element, subject: Mapping[str, Any], config: Mapping[str, Any]
) -> None:
    id_type, number = _id(subject)
    code = config["identifier_types"].get(id_type)
    country = subject.get("nationality") or subject.get("residence_country")
    if code and number and country:
        ident = add(person, "identification")
        add(ident, "type", code)
        add(ident, "number", clip.line(number, 255, "identification/number"))
        add(ident, "issue_country", country)


SSN_TYPES = {"ssn", "social_security_number", "national_insurance_number"}


def _id(subject: Mapping[str, Any]) -> tuple[str, str]:
    id_type = str(subject.get("id_type") or "").strip().lower().replace(" ", "_")
    return id_type, str(subject.get("id_number") or "").strip()


def _split_phone(phone: str, country: Any) -> tuple[str, str]:
    """(country prefix, national number) from an E.164-like phone: the payee country's calling code when
    the number starts with it, else the leading digits are kept whole with prefix 0 (unknown)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    code = _calling_code(country)
    if code and phone.strip().startswith("+") and digits.startswith(code):
        return code, digits[len(code) :]
    return (code or "0"), digits


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


def _sql_date(stamp: Any) -> str:
    """goAML `sql_date` (xs:dateTime, no zone): 'YYYY-MM-DDThh:mm:ss' from an ISO date or UTC timestamp."""
    text = str(stamp).rstrip("Z")
    return text[:19] if "T" in text else f"{text[:10]}T00:00:00"


def _calling_code(country: Any) -> str | None:
    entry = CALLING_CODES.get(str(country or "").upper())
    return entry[0] if entry else None
