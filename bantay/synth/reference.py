"""Reference data for the synthetic ledger: countries, names, places, merchants, payment wording.

The tables live in `bantay/synth/data/*.yaml`, where each field is explained. This module reads every file
once, at import, and gives the tables their names and types (tuples and frozen dataclasses, in file order);
no randomness. Names and places are ordinary public ones; merchants in the sensitive categories (webcam,
adult, token sellers) are invented brand names.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

# libyaml's safe loader when PyYAML has it (ten times faster than the pure-Python one, same values).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def load(name: str) -> Any:
    """One file of `bantay/synth/data/`, parsed; read through importlib.resources, so an installed wheel
    finds it too."""
    text = (resources.files("bantay.synth") / "data" / name).read_text(encoding="utf-8")
    return yaml.load(text, Loader=_LOADER)


def _frozen(value: Any) -> Any:
    """YAML lists as tuples, all the way down (callers concatenate and hash them)."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value


def _rows(records: list[dict[str, Any]], *fields: str) -> tuple[tuple[Any, ...], ...]:
    """Records as tuples of `fields`, in that order."""
    return tuple(tuple(_frozen(record[f]) for f in fields) for record in records)


@dataclass(frozen=True)
class Residence:
    """A country the bank's customers live in."""

    code: str
    weight: float
    currency: str
    # (IANA zone, city, postcode pattern) triples; the zone gives the local hour of every payment.
    places: tuple[tuple[str, str, str], ...]
    streets: tuple[str, ...]
    ip_prefixes: tuple[str, ...]
    id_types: tuple[str, ...]
    salary_day: int  # 0 = every other Friday (US/CA payroll), else the day of the month
    salary_median: float  # monthly net pay in local currency
    rent_median: float


@dataclass(frozen=True)
class Destination:
    """A destination country of payments abroad: phone prefix, currency, name origin, cities (weighted)."""

    code: str
    currency: str
    dial: str
    origin: str
    cities: tuple[tuple[str, float], ...]
    mobile_prefixes: tuple[str, ...]
    national_digits: int  # digits after the mobile prefix


RESIDENCES: tuple[Residence, ...] = tuple(
    Residence(**_frozen(r)) for r in load("residences.yaml")["residences"]
)
RESIDENCE_INDEX = {r.code: i for i, r in enumerate(RESIDENCES)}

# Names by name origin. Residence countries reuse their own; diaspora and payees use the others.
_NAMES = load("names.yaml")
FIRST_MALE: dict[str, tuple[str, ...]] = _frozen(_NAMES["first_male"])
FIRST_FEMALE: dict[str, tuple[str, ...]] = _frozen(_NAMES["first_female"])
SURNAMES: dict[str, tuple[str, ...]] = _frozen(_NAMES["surnames"])
NAME_ORIGIN: dict[str, str] = _NAMES["name_origin"]  # which name pool a nationality draws from

# Immigrant nationalities among residents (share of residents who are not nationals, and from where).
_PEOPLE = load("people.yaml")
MIGRANT_SHARE: float = _PEOPLE["migrant_share"]
MIGRANT_NATIONALITIES: tuple[str, ...] = tuple(_PEOPLE["migrant_nationalities"])
MIGRANT_WEIGHTS: tuple[float, ...] = tuple(_PEOPLE["migrant_nationalities"].values())
OCCUPATIONS: tuple[str, ...] = _frozen(_PEOPLE["occupations"])
OFW_OCCUPATIONS: tuple[str, ...] = _frozen(_PEOPLE["ofw_occupations"])

_DESTINATIONS = load("destinations.yaml")
DESTINATIONS: dict[str, Destination] = {
    code: Destination(code=code, **_frozen({**d, "cities": list(d["cities"].items())}))
    for code, d in _DESTINATIONS["destinations"].items()
}
OCSE_DESTINATIONS: tuple[str, ...] = tuple(_DESTINATIONS["ocse_destinations"])
OCSE_DESTINATION_WEIGHTS: tuple[float, ...] = tuple(_DESTINATIONS["ocse_destinations"].values())

# FX: USD per unit on the first day, and the daily volatility of the random walk.
FX_START: dict[str, float] = load("fx.yaml")["usd_per_unit"]
FX_VOL: float = load("fx.yaml")["daily_volatility"]

_MERCHANTS = load("merchants.yaml")
# Card merchant categories: (mcc, name of the category, brands, median amount in USD, online).
CARD_CATEGORIES: tuple[tuple[str, str, tuple[str, ...], float, bool], ...] = _rows(
    _MERCHANTS["card_categories"], "mcc", "name", "brands", "median_usd", "online"
)
# Per-day category weights of ordinary card spending (same order as CARD_CATEGORIES).
CARD_WEIGHTS: tuple[float, ...] = tuple(c["weight"] for c in _MERCHANTS["card_categories"])
GROCERS: dict[str, tuple[str, ...]] = _frozen(_MERCHANTS["grocers"])
# Sensitive card spending (O8): (mcc, merchant, kind, median USD, merchant country).
RELATED_MERCHANTS: tuple[tuple[str, str, str, float, str], ...] = _rows(
    _MERCHANTS["related_merchants"], "mcc", "merchant", "kind", "median_usd", "country"
)
CRYPTO_EXCHANGES: tuple[tuple[str, str], ...] = _rows(_MERCHANTS["crypto_exchanges"], "name", "country")
GIFT_CARDS: tuple[tuple[str, str, str], ...] = _rows(_MERCHANTS["gift_cards"], "mcc", "name", "country")
AIRLINES: tuple[tuple[str, str], ...] = _rows(_MERCHANTS["airlines"], "name", "country")

_WORDING = load("wording.yaml")
REFERENCES: tuple[str, ...] = _frozen(_WORDING["references"])  # index 0 is "no reference"
REF_INNOCENT_SOUNDING: tuple[str, ...] = _frozen(_WORDING["innocent_sounding"])
DOMESTIC_FOREIGN_CURRENCY_CITY: dict[str, str] = _WORDING["domestic_foreign_cities"]
DOMESTIC_FOREIGN: tuple[str, ...] = tuple(DOMESTIC_FOREIGN_CURRENCY_CITY)

_NETWORK = load("network.yaml")
# Hosting ranges of commercial VPN exits (shared by every VPN user); mobile ranges of travellers abroad.
VPN_PREFIXES: tuple[str, ...] = _frozen(_NETWORK["vpn_prefixes"])
TRAVEL_PREFIXES: dict[str, tuple[str, ...]] = _frozen(_NETWORK["travel_prefixes"])
