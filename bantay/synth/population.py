"""Customers of one chunk: who they are (kind, KYC snapshot) and how they bank (devices, IPs, activity)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from bantay.synth import profile as profiles
from bantay.synth import reference as ref
from bantay.synth.world import DAY_US, EPOCH, World

# Kinds of customer and their share of a bank's book in the default world (data/worlds/default.yaml; a world
# profile sets its own). Everything but `retail` and `ocse_payer` is an innocent look-alike of the typology
# (typology.md, "Innocent look-alikes").
KIND_NAMES = profiles.KIND_NAMES
KINDS: tuple[tuple[str, float], ...] = (
    ("retail", 0.0),
    *((k, profiles.default().kinds[k]) for k in KIND_NAMES[1:]),
)
KIND = {k: i for i, k in enumerate(KIND_NAMES)}
OCSE_RATE = dict(KINDS)["ocse_payer"]


@dataclass
class Chunk:
    """One chunk's customers as parallel arrays (index = position in the chunk)."""

    index: int
    first: int  # global number of the first customer
    kind: np.ndarray
    residence: np.ndarray  # index into ref.RESIDENCES
    zone: np.ndarray  # index into world.tz_names
    nationality: list[str]
    gender: list[str | None]
    first_name: list[str]
    surname: list[str]
    birth: np.ndarray  # days since epoch
    onboard_day: np.ndarray  # day index relative to world.start (negative = before the window)
    onboard_us: np.ndarray
    city: list[str]
    address: list[str]
    postcode: list[str]
    id_type: list[str]
    id_number: list[str]
    occupation: list[str | None]
    ccy: np.ndarray  # index into world.currencies
    activity: np.ndarray  # card payments a day
    vpn_rate: np.ndarray
    night_owl: np.ndarray  # bool: shifted daily rhythm (night workers)
    n_devices: np.ndarray
    devices: np.ndarray  # [customer, 5] strings
    home_ips: np.ndarray  # [customer, 2] strings

    def __len__(self) -> int:
        return len(self.kind)

    @property
    def ids(self) -> list[str]:
        return [f"C{self.first + i:08d}" for i in range(len(self))]

    @property
    def accounts(self) -> list[str]:
        return [
            f"{ref.RESIDENCES[r].code}{(self.first + i) * 7 % 97:02d}BNTY{self.first + i:010d}"
            for i, r in enumerate(self.residence.tolist())
        ]


def kind_counts(rng: np.random.Generator, n: int, world: profiles.Profile | None = None) -> np.ndarray:
    """Exact counts per kind (stochastic rounding), so small chunks still hold every look-alike."""
    kinds = (world or profiles.default()).kinds
    shares = np.array([0.0] + [kinds[k] for k in KIND_NAMES[1:]])
    raw = shares * n
    counts = np.floor(raw).astype(int) + (rng.random(len(shares)) < raw - np.floor(raw))
    counts[0] = n - counts[1:].sum()
    exact: np.ndarray = counts
    return exact


def _fill(pattern: str, rng: np.random.Generator) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXY"
    return "".join(
        str(rng.integers(10)) if ch == "#" else letters[rng.integers(len(letters))] if ch == "A" else ch
        for ch in pattern
    )


def _age(kind: str, country: str, rng: np.random.Generator, people: profiles.PayerPeople) -> float:
    if kind == "ocse_payer":
        if rng.random() < people.young_share:  # a few young offenders (typology: "a few are young")
            return rng.uniform(20, 32)
        lo_hi = {"AU": (50, 69), "CA": (40, 59), "SE": (37, 50)}.get(country)
        return rng.uniform(*lo_hi) if lo_hi else float(np.clip(rng.normal(53, 9), 25, 80))
    if kind == "romance_victim":
        return rng.uniform(58, 82)
    if kind == "sextortion_victim":
        return rng.uniform(17.5, 30)
    if kind in ("online_buyer", "gamer_tipper"):
        return rng.uniform(18, 55)
    return float(np.clip(rng.gamma(6.0, 7.5), 18, 90))


def _gender(kind: str, rng: np.random.Generator, people: profiles.PayerPeople) -> str | None:
    male = {
        "ocse_payer": people.male_share,
        "mixed_family": 0.92,
        "online_dater": 1.0,
        "sextortion_victim": 0.9,
        "romance_victim": 0.45,
        "webcam_customer": 0.88,
        "ofw": 0.4,
        "gamer_tipper": 0.75,
    }.get(kind, 0.49)
    draw = rng.random()
    if draw < 0.004:
        return "X"
    if draw < 0.012:
        return None
    return "M" if rng.random() < male else "F"


def _nationality(kind: str, home: str, rng: np.random.Generator, diaspora: tuple[str, ...]) -> str:
    if kind == "ofw" or (kind == "church_donor" and rng.random() < 0.5):
        return "PH"
    if kind == "diaspora":
        return diaspora[rng.integers(len(diaspora))]
    if kind in ("ocse_payer", "mixed_family", "online_dater") or rng.random() > ref.MIGRANT_SHARE:
        return home
    return ref.MIGRANT_NATIONALITIES[
        rng.choice(len(ref.MIGRANT_NATIONALITIES), p=np.array(ref.MIGRANT_WEIGHTS))
    ]


def build(world: World, rng: np.random.Generator, index: int, first: int, n: int) -> Chunk:
    kinds = np.repeat(np.arange(len(KINDS)), kind_counts(rng, n, world.profile))
    rng.shuffle(kinds)
    weights = np.array([world.profile.residences[r.code] for r in ref.RESIDENCES])
    residence = rng.choice(len(ref.RESIDENCES), size=n, p=weights / weights.sum())
    as_of = world.start
    zone = np.zeros(n, dtype=np.int64)
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "nat",
            "gender",
            "first",
            "last",
            "birth",
            "city",
            "address",
            "postcode",
            "id_type",
            "id_number",
            "occupation",
        )
    }
    for i in range(n):
        res = ref.RESIDENCES[residence[i]]
        kind = KIND_NAMES[kinds[i]]
        place = res.places[rng.integers(len(res.places))]
        zone[i] = world.tz_names.index(place[0])
        nat = _nationality(kind, res.code, rng, world.profile.diaspora_nationalities)
        gender = _gender(kind, rng, world.profile.payer_people)
        origin = ref.NAME_ORIGIN[nat]
        pool = (
            ref.FIRST_FEMALE[origin]
            if gender == "F" or (gender != "M" and rng.random() < 0.5)
            else ref.FIRST_MALE[origin]
        )
        age = _age(kind, res.code, rng, world.profile.payer_people)
        street = res.streets[rng.integers(len(res.streets))]
        number = int(rng.integers(1, 240))
        cols["nat"].append(nat)
        cols["gender"].append(gender)
        cols["first"].append(pool[rng.integers(len(pool))])
        cols["last"].append(ref.SURNAMES[origin][rng.integers(len(ref.SURNAMES[origin]))])
        cols["birth"].append((as_of - EPOCH).days - int(age * 365.25) - int(rng.integers(0, 365)))
        cols["city"].append(place[1])
        cols["address"].append(
            f"{street} {number}" if res.code in ("DE", "NL", "SE") else f"{number} {street}"
        )
        cols["postcode"].append(_fill(place[2], rng))
        id_type = res.id_types[rng.integers(len(res.id_types))] if nat == res.code else "passport"
        cols["id_type"].append(id_type)
        cols["id_number"].append(
            f"{nat}{_fill('AA#######', rng)}"
            if id_type == "passport"
            else _fill("###-##-####" if id_type == "ssn" else "A########", rng)
        )
        if age >= 67:
            occupation = "retired"
        elif age < 22 and rng.random() < 0.6:
            occupation = "student"
        elif kind == "ofw":
            occupation = ref.OFW_OCCUPATIONS[rng.integers(len(ref.OFW_OCCUPATIONS))]
        elif kind == "small_business_va":
            occupation = "business owner"
        else:
            occupation = ref.OCCUPATIONS[rng.integers(len(ref.OCCUPATIONS))]
        cols["occupation"].append(None if rng.random() < 0.03 else occupation)

    # Most customers joined years ago; about one in eight during the window (they start banking later).
    new = rng.random(n) < 0.12
    onboard_day = np.where(new, rng.integers(0, max(1, world.days - 7), n), -rng.integers(30, 15 * 365, n))
    onboard_us = world.start_us + onboard_day * DAY_US + rng.integers(8 * 3600, 18 * 3600, n) * 1_000_000
    n_devices = 1 + rng.binomial(4, np.where(kinds == KIND["ocse_payer"], 0.35, 0.18))
    hexes = rng.integers(0, 2**62, size=(n, 5))
    devices = np.array([f"dev-{v:016x}" for v in hexes.ravel().tolist()], dtype=object).reshape(n, 5)
    home_ips = np.empty((n, 2), dtype=object)
    for i in range(n):
        prefixes = ref.RESIDENCES[residence[i]].ip_prefixes
        for k in range(2):
            home_ips[i, k] = (
                f"{prefixes[rng.integers(len(prefixes))]}.{rng.integers(0, 256)}.{rng.integers(2, 254)}"
            )
    # VPN use: most customers never, some often; offenders more often, with overlap.
    vpn_user = rng.random(n) < np.where(kinds == KIND["ocse_payer"], 0.45, 0.14)
    vpn_rate = np.where(vpn_user, rng.beta(2, 4, n), 0.0)
    return Chunk(
        index=index,
        first=first,
        kind=kinds,
        residence=residence,
        zone=zone,
        nationality=cols["nat"],
        gender=cols["gender"],
        first_name=cols["first"],
        surname=cols["last"],
        birth=np.array(cols["birth"], dtype=np.int64),
        onboard_day=onboard_day,
        onboard_us=onboard_us,
        city=cols["city"],
        address=cols["address"],
        postcode=cols["postcode"],
        id_type=cols["id_type"],
        id_number=cols["id_number"],
        occupation=cols["occupation"],
        ccy=np.array([world.ccy(ref.RESIDENCES[r].currency) for r in residence]),
        activity=rng.gamma(2.0, 0.55, n),
        vpn_rate=vpn_rate,
        night_owl=rng.random(n) < 0.07,
        n_devices=n_devices,
        devices=devices,
        home_ips=home_ips,
    )


def birth_dates(chunk: Chunk) -> np.ndarray:
    return chunk.birth.astype("datetime64[D]")


def ages_at(chunk: Chunk, day: date) -> np.ndarray:
    return ((day - EPOCH).days - chunk.birth) / 365.25
