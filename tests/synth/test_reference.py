"""The generator's reference tables (bantay/synth/data/*.yaml): counts, keys, cross-references, types."""

from __future__ import annotations

import configparser
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bantay.synth import reference as ref

ROOT = Path(__file__).resolve().parents[2]


def test_load_reads_every_data_file_once_and_uses_them_all() -> None:
    data = resources.files("bantay.synth") / "data"
    files = sorted(p.name for p in data.iterdir() if p.name.endswith(".yaml"))
    assert len(files) == 8
    # Importing the module read eight files; loading each again only hits the cache, so they are these eight.
    assert ref.load.cache_info().currsize == len(files)
    assert all(isinstance(ref.load(name), dict) for name in files)
    assert ref.load.cache_info().currsize == len(files)
    assert ref.load("fx.yaml") is ref.load("fx.yaml")


def test_setup_cfg_ships_the_data_files_with_the_package() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    assert "data/*" in cfg["options.package_data"]["bantay.synth"]


def test_residences_are_the_eight_countries_with_valid_zones_and_pay_days() -> None:
    assert [r.code for r in ref.RESIDENCES] == ["GB", "US", "AU", "CA", "IE", "SE", "DE", "NL"]
    assert ref.RESIDENCE_INDEX["NL"] == 7
    assert sum(r.weight for r in ref.RESIDENCES) == pytest.approx(1.0)
    for res in ref.RESIDENCES:
        assert res.places and res.streets and res.ip_prefixes and res.id_types
        for zone, _city, _pattern in res.places:
            ZoneInfo(zone)  # raises on an unknown zone
        assert res.salary_day == 0 or 1 <= res.salary_day <= 31  # 0: every other Friday
        assert res.salary_median > res.rent_median > 0
    # US and CA pay every other Friday.
    assert [r.code for r in ref.RESIDENCES if r.salary_day == 0] == ["US", "CA"]


def test_every_nationality_has_a_name_pool() -> None:
    origins = {"EN", "IE", "SE", "DE", "NL", "PH", "TH", "ES", "GH", "RO", "IN", "PL"}
    assert set(ref.FIRST_MALE) == set(ref.FIRST_FEMALE) == set(ref.SURNAMES) == origins
    assert set(ref.NAME_ORIGIN.values()) == origins
    needed = {r.code for r in ref.RESIDENCES} | set(ref.DESTINATIONS) | set(ref.MIGRANT_NATIONALITIES)
    assert needed <= set(ref.NAME_ORIGIN)
    assert {d.origin for d in ref.DESTINATIONS.values()} <= origins


def test_people_weights_and_occupations() -> None:
    assert ref.MIGRANT_SHARE == 0.12
    assert ref.MIGRANT_NATIONALITIES == ("IN", "PL", "RO", "MX", "CO", "GH", "TH", "PH", "DO")
    assert sum(ref.MIGRANT_WEIGHTS) == pytest.approx(1.0)
    assert len(ref.OCCUPATIONS) == 32 and len(ref.OFW_OCCUPATIONS) == 10
    # population.py treats these three as having no salary.
    assert {"student", "unemployed", "homemaker"} <= set(ref.OCCUPATIONS)


def test_destinations_and_their_weights() -> None:
    assert list(ref.DESTINATIONS) == ["PH", "TH", "CO", "DO", "MX", "GH", "RO"]
    for code, dest in ref.DESTINATIONS.items():
        assert dest.code == code
        assert sum(w for _, w in dest.cities) == pytest.approx(1.0)
        assert dest.dial.isdigit() and all(p.isdigit() for p in dest.mobile_prefixes)
    assert len(ref.DESTINATIONS["PH"].cities) == 20
    assert ref.DESTINATIONS["RO"].national_digits == 6
    assert tuple(ref.DESTINATIONS) == ref.OCSE_DESTINATIONS
    assert ref.OCSE_DESTINATION_WEIGHTS[0] == 0.75 and sum(ref.OCSE_DESTINATION_WEIGHTS) == pytest.approx(1.0)


def test_fx_covers_every_currency_in_use() -> None:
    used = {r.currency for r in ref.RESIDENCES} | {d.currency for d in ref.DESTINATIONS.values()}
    assert used <= set(ref.FX_START)
    assert ref.FX_START["USD"] == 1.0 and ref.FX_VOL == 0.004


def test_merchant_tables() -> None:
    assert len(ref.CARD_CATEGORIES) == len(ref.CARD_WEIGHTS) == 18
    assert sum(ref.CARD_WEIGHTS) == pytest.approx(1.0)
    assert ref.CARD_CATEGORIES[0] == ("5411", "grocery", (), 38.0, False)  # brands come from GROCERS
    assert all(len(mcc) == 4 and mcc.isdigit() for mcc, *_ in ref.CARD_CATEGORIES)
    assert list(ref.GROCERS) == [r.code for r in ref.RESIDENCES]
    assert len(ref.RELATED_MERCHANTS) == 20
    kinds = {kind for _, _, kind, _, _ in ref.RELATED_MERCHANTS}
    assert kinds == {"webcam", "adult", "tokens", "dating", "vpn", "screen_capture", "cleaner"}
    assert len(ref.GIFT_CARDS) == 4 and len(ref.AIRLINES) == 7 and len(ref.CRYPTO_EXCHANGES) == 5


def test_wording_and_network_tables() -> None:
    assert ref.REFERENCES[0] == "" and len(ref.REFERENCES) == len(set(ref.REFERENCES)) == 39
    assert set(ref.REF_INNOCENT_SOUNDING) <= set(ref.REFERENCES)
    assert tuple(ref.DOMESTIC_FOREIGN_CURRENCY_CITY) == ref.DOMESTIC_FOREIGN
    assert len(ref.DOMESTIC_FOREIGN) == 15
    assert len(ref.VPN_PREFIXES) == 10
    assert set(ref.DESTINATIONS) <= set(ref.TRAVEL_PREFIXES)


def test_tables_are_tuples_not_lists() -> None:
    # activity.REF_VOCAB concatenates REFERENCES with a tuple, which a list would refuse; YAML gives lists.
    assert isinstance(ref.REFERENCES, tuple)
    assert isinstance(ref.RESIDENCES[0].places[0], tuple)
    assert isinstance(ref.DESTINATIONS["PH"].cities[0], tuple)
    assert isinstance(ref.SURNAMES["EN"], tuple) and isinstance(ref.CARD_CATEGORIES[1][2], tuple)
    hash(ref.RESIDENCES[0])  # frozen dataclasses of tuples are hashable
