"""What every chunk of customers shares: the calendar, time zones, FX rates and the counterparties paid by
many.

Shared counterparties are built once from the seed so that customers in different chunks can pay the same
payee: facilitator clusters (F2, F5) and their innocent twins (popular sellers, creators, VA agencies,
parishes), merchants, employers, billers and charities.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from bantay.synth import profile as profiles
from bantay.synth import reference as ref

DAY_US = 86_400_000_000
EPOCH = date(1970, 1, 1)
MANILA_OFFSET_S = 8 * 3600


def mix_id(prefix: str, values: np.ndarray, salt: int) -> list[str]:
    """Stable, unique, non-sequential ids: a bijection on 48 bits of (salt, value), as hex."""
    mixed = (np.asarray(values, dtype=np.uint64) * np.uint64(0x9E3779B1) + np.uint64(salt)) & np.uint64(
        2**48 - 1
    )
    return [f"{prefix}{v:012X}" for v in mixed.tolist()]


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def name_variants(first: str, last: str, rng: np.random.Generator) -> tuple[str, str, str]:
    """The same person's name as different clerks and apps capture it: case, accents, spacing,
    abbreviations."""
    full = f"{first} {last}"
    variants = [
        full.upper(),
        strip_accents(full),
        f"{last.upper()}, {first}",
        f"{first}  {last} ",
        full.replace("Ma. ", "Maria ").replace("Dela ", "de la ").replace("De Leon", "Deleon"),
        f"{first.split()[0]} {last}",
        strip_accents(full).lower(),
    ]
    picks = rng.choice(len(variants), size=2, replace=False)
    return full, variants[picks[0]], variants[picks[1]]


def phone_variants(dest: ref.Destination, mobile: str) -> tuple[str, str, str]:
    """E.164 plus two local ways of writing the same number ("0917 123 4567", "+63-917-1234567")."""
    prefix, rest = mobile[: len(mobile) - dest.national_digits], mobile[len(mobile) - dest.national_digits :]
    e164 = f"+{dest.dial}{mobile}"
    local = f"0{prefix} {rest[:3]} {rest[3:]}" if dest.dial != "1" else f"({prefix}) {rest[:3]}-{rest[3:]}"
    dashed = f"+{dest.dial}-{prefix}-{rest}"
    return e164, local, dashed


@dataclass
class Parties:
    """Counterparties as columns; a transaction points at a row and at one of three captured variants."""

    ids: list[str] = field(default_factory=list)
    names: list[tuple[str, str, str]] = field(default_factory=list)
    country: list[str] = field(default_factory=list)
    city: list[str | None] = field(default_factory=list)
    phones: list[tuple[str | None, str | None, str | None]] = field(default_factory=list)
    account: list[str | None] = field(default_factory=list)
    mcc: list[str | None] = field(default_factory=list)
    handle: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def add(
        self,
        pid: str,
        names: tuple[str, str, str] | str,
        country: str,
        city: str | None = None,
        phones: tuple[str | None, str | None, str | None] | None = None,
        account: str | None = None,
        mcc: str | None = None,
        handle: str | None = None,
    ) -> int:
        self.ids.append(pid)
        self.names.append((names, names, names) if isinstance(names, str) else names)
        self.country.append(country)
        self.city.append(city)
        self.phones.append(phones or (None, None, None))
        self.account.append(account)
        self.mcc.append(mcc)
        self.handle.append(handle)
        return len(self.ids) - 1

    def extend(self, other: Parties) -> None:
        for name in ("ids", "names", "country", "city", "phones", "account", "mcc", "handle"):
            getattr(self, name).extend(getattr(other, name))

    def to_arrow(self) -> dict[str, pa.Array]:
        """Columns for `take`: names and phones flattened so that row*3 + variant picks a variant."""
        return {
            "counterparty_id": pa.array(self.ids, pa.string()),
            "names": pa.array([n for triple in self.names for n in triple], pa.string()),
            "counterparty_country": pa.array(self.country, pa.string()),
            "counterparty_city": pa.array(self.city, pa.string()),
            "phones": pa.array([p for triple in self.phones for p in triple], pa.string()),
            "counterparty_account": pa.array(self.account, pa.string()),
            "mcc": pa.array(self.mcc, pa.string()),
            "handle": pa.array(self.handle, pa.string()),
        }


@dataclass
class Hub:
    """A group of payee rows that belong together (one facilitator cluster, one shop, one parish)."""

    members: np.ndarray  # party indexes
    country: str
    weight: float = 1.0


@dataclass
class World:
    start: date
    days: int
    currencies: tuple[str, ...]
    usd_per_unit: np.ndarray  # [currency, day]
    tz_names: tuple[str, ...]
    tz_offset_s: np.ndarray  # [zone, day] UTC offset at local noon, seconds
    parties: Parties
    merchants: dict[str, np.ndarray]  # category (mcc + country or kind) -> party indexes
    employers: dict[str, np.ndarray]
    billers: dict[str, np.ndarray]
    landlords: dict[str, np.ndarray]
    charities: dict[str, np.ndarray]
    facilitators: list[Hub]  # shared facilitator clusters (F5)
    shops: list[Hub]  # marketplace sellers paid by many (innocent twin)
    creators: list[Hub]
    agencies: list[Hub]
    parishes: list[Hub]
    vpn_ips: np.ndarray
    travel_ips: dict[str, np.ndarray]
    profile: profiles.Profile  # the world's knobs (data/worlds/default.yaml)

    @property
    def start_us(self) -> int:
        return (self.start - EPOCH).days * DAY_US

    def ccy(self, code: str) -> int:
        return self.currencies.index(code)


def fx_walk(rng: np.random.Generator, days: int) -> tuple[tuple[str, ...], np.ndarray]:
    """USD per unit for each currency and day: a small multiplicative random walk around today's level."""
    codes = tuple(ref.FX_START)
    steps = rng.normal(0.0, ref.FX_VOL, size=(len(codes), days))
    steps[0] = 0.0  # USD is the numeraire
    levels = np.array([ref.FX_START[c] for c in codes])[:, None] * np.exp(np.cumsum(steps, axis=1))
    return codes, levels


def tz_offsets(start: date, days: int) -> tuple[tuple[str, ...], np.ndarray]:
    zones = tuple(sorted({zone for r in ref.RESIDENCES for zone, _, _ in r.places}))
    out = np.zeros((len(zones), days + 2), dtype=np.int64)
    for z, name in enumerate(zones):
        info = ZoneInfo(name)
        for d in range(days + 2):
            noon = datetime.combine(start + timedelta(days=d - 1), datetime.min.time(), UTC) + timedelta(
                hours=12
            )
            offset = noon.astimezone(info).utcoffset()
            assert offset is not None  # a ZoneInfo always has an offset
            out[z, d] = int(offset.total_seconds())
    return zones, out[:, 1:]  # index 0 = the first day; one spare day at the end for late-evening payments


def person_abroad(
    parties: Parties,
    rng: np.random.Generator,
    dest: ref.Destination,
    pid: str,
    *,
    surname: str | None = None,
    female: bool | None = None,
    city: str | None = None,
    phone: tuple[str | None, str | None, str | None] | None = None,
    account: str | None = None,
    wallet_share: float = 0.5,
    handle: str | None = None,
) -> int:
    """One payee in a destination country with name variants, a mobile in mixed formats and a wallet or
    account."""
    origin = dest.origin
    is_female = rng.random() < 0.7 if female is None else female
    first_pool = ref.FIRST_FEMALE[origin] if is_female else ref.FIRST_MALE[origin]
    first = first_pool[rng.integers(len(first_pool))]
    last = surname or ref.SURNAMES[origin][rng.integers(len(ref.SURNAMES[origin]))]
    if city is None:
        cities, weights = zip(*dest.cities, strict=True)
        city = cities[rng.choice(len(cities), p=np.array(weights) / sum(weights))]
    mobile = f"{dest.mobile_prefixes[rng.integers(len(dest.mobile_prefixes))]}" + "".join(
        str(d) for d in rng.integers(0, 10, dest.national_digits)
    )
    phones = phone or phone_variants(dest, mobile)
    if account is None:
        draw = rng.random()
        if draw < wallet_share:  # e-wallets (GCash, PayMaya, TrueMoney) are keyed by the mobile number
            account = f"0{mobile}" if dest.code == "PH" else f"W{mobile}"
        elif draw < wallet_share + 0.3:
            account = "".join(str(d) for d in rng.integers(0, 10, 12))
        # else: cash pick-up only, no account
    return parties.add(pid, name_variants(first, last, rng), dest.code, city, phones, account, None, handle)


def _hub(
    parties: Parties,
    rng: np.random.Generator,
    code: str,
    salt: int,
    start: int,
    size: int,
    family_share: float,
    phone_share: float,
    wallet_share: float,
    handle: str | None = None,
) -> Hub:
    """Members that share a surname (family), a phone, a wallet, or several of these; they take turns
    collecting."""
    dest = ref.DESTINATIONS[code]
    family = rng.random() < family_share
    surname = ref.SURNAMES[dest.origin][rng.integers(len(ref.SURNAMES[dest.origin]))] if family else None
    share_phone = rng.random() < phone_share
    share_wallet = rng.random() < wallet_share
    if not (family or share_phone or share_wallet):
        share_phone = True
    cities, weights = zip(*dest.cities, strict=True)
    city = cities[rng.choice(len(cities), p=np.array(weights) / sum(weights))]
    phone = wallet = None
    members = []
    ids = mix_id("B", np.arange(start, start + size), salt)
    for k in range(size):
        idx = person_abroad(
            parties, rng, dest, ids[k], surname=surname, city=city, phone=phone, account=wallet, handle=handle
        )
        if k == 0:
            phone = parties.phones[idx] if share_phone else None
            wallet = parties.account[idx] if share_wallet and parties.account[idx] else None
        members.append(idx)
    return Hub(np.array(members), code, float(rng.pareto(1.2) + 1.0))


def build(
    seed: int, start: date, days: int, customers: int, world: profiles.Profile | None = None
) -> World:
    """The shared part of a ledger for `seed` in `world` (default: the default world)."""
    world = world or profiles.default()
    rng = np.random.default_rng([seed, 0xB4A7])
    currencies, usd = fx_walk(rng, days + 2)
    zones, offsets = tz_offsets(start, days)
    parties = Parties()
    serial = iter(range(10**9))

    def ids(prefix: str, n: int) -> list[str]:
        return mix_id(prefix, np.array([next(serial) for _ in range(n)]), 0x5EED)

    merchants: dict[str, np.ndarray] = {}
    for res in ref.RESIDENCES:
        city_names = sorted({city for _, city, _ in res.places})
        for mcc, _, brands, _, online in ref.CARD_CATEGORIES:
            names = ref.GROCERS[res.code] if mcc == "5411" else brands
            rows = []
            for brand in names:
                stores = 1 if online else 3
                for pid, store in zip(ids("M", stores), range(stores), strict=True):
                    city = None if online else city_names[(store + len(brand)) % len(city_names)]
                    label = brand if online or city is None else f"{brand.upper()} {city.upper()}"
                    rows.append(parties.add(pid, label, res.code, city, mcc=mcc))
            merchants[f"{mcc}:{res.code}"] = np.array(rows)
        atm = [
            parties.add(pid, f"ATM {city.upper()}", res.code, city, mcc="6011")
            for pid, city in zip(ids("M", len(city_names)), city_names, strict=True)
        ]
        merchants[f"6011:{res.code}"] = np.array(atm)
    for mcc, name, kind, _, country in ref.RELATED_MERCHANTS:
        merchants.setdefault(f"related:{kind}", np.array([], dtype=np.int64))
        idx = parties.add(ids("M", 1)[0], name, country, None, mcc=mcc)
        merchants[f"related:{kind}"] = np.append(merchants[f"related:{kind}"], idx)
    merchants["giftcard"] = np.array(
        [parties.add(ids("M", 1)[0], name, c, None, mcc=mcc) for mcc, name, c in ref.GIFT_CARDS]
    )
    merchants["airline"] = np.array(
        [parties.add(ids("M", 1)[0], name.upper(), c, None, mcc="4511") for name, c in ref.AIRLINES]
    )
    merchants["crypto"] = np.array(
        [
            parties.add(ids("X", 1)[0], name, c, None, account=f"bc1q{rng.bytes(16).hex()[:30]}")
            for name, c in ref.CRYPTO_EXCHANGES
        ]
    )
    for code, dest in ref.DESTINATIONS.items():
        rows = []
        for city, _ in dest.cities:
            rows.append(parties.add(ids("M", 1)[0], f"HOTEL {city.upper()}", code, city, mcc="7011"))
            rows.append(parties.add(ids("M", 1)[0], f"ATM {city.upper()}", code, city, mcc="6011"))
            rows.append(parties.add(ids("M", 1)[0], f"JEWELLERY {city.upper()}", code, city, mcc="5944"))
            rows.append(parties.add(ids("M", 1)[0], f"RESTAURANT {city.upper()}", code, city, mcc="5812"))
        merchants[f"abroad:{code}"] = np.array(rows)

    employers, billers, landlords, charities = {}, {}, {}, {}
    for res in ref.RESIDENCES:
        origin = ref.NAME_ORIGIN[res.code]
        emp = [
            parties.add(
                pid,
                f"{ref.SURNAMES[origin][k % len(ref.SURNAMES[origin])]} "
                f"{('Holdings', 'Group', 'Ltd', 'Services', 'Logistics', 'Health')[k % 6]}",
                res.code,
            )
            for k, pid in enumerate(ids("E", 40))
        ]
        employers[res.code] = np.array(emp)
        bills = [
            parties.add(pid, name, res.code)
            for pid, name in zip(
                ids("U", 6),
                (
                    f"{res.code} Energy",
                    f"{res.code} Water Services",
                    f"{res.code} Mobile",
                    "Broadband Plus",
                    "Home Insurance Co",
                    "City Council Tax",
                ),
                strict=True,
            )
        ]
        billers[res.code] = np.array(bills)
        landlords[res.code] = np.array(
            [
                parties.add(
                    pid,
                    f"{('Lettings', 'Property Mgmt', 'Homes')[k % 3]} {res.places[k % len(res.places)][1]}",
                    res.code,
                )
                for k, pid in enumerate(ids("L", 12))
            ]
        )
        charities[res.code] = np.array(
            [
                parties.add(pid, name, res.code)
                for pid, name in zip(
                    ids("G", 5),
                    ("Plan International", "Compassion", "World Vision", "ChildFund", "Save the Children"),
                    strict=True,
                )
            ]
        )

    def hubs(
        n: int,
        codes: tuple[str, ...],
        weights: tuple[float, ...],
        size: tuple[int, int],
        family: float,
        phone: float,
        wallet: float,
        handles: bool,
    ) -> list[Hub]:
        out = []
        for _ in range(n):
            code = codes[rng.choice(len(codes), p=np.array(weights) / sum(weights))]
            handle = (
                f"@{rng.choice(['shop', 'store', 'ukay', 'live', 'tv', 'official', 'ph'])}"
                f"_{rng.integers(1000, 99999)}"
                if handles
                else None
            )
            base = next(serial) * 8
            out.append(
                _hub(
                    parties,
                    rng,
                    code,
                    0xFAC,
                    base,
                    int(rng.integers(size[0], size[1] + 1)),
                    family,
                    phone,
                    wallet,
                    handle,
                )
            )
        return out

    n_payers = max(4.0, customers * world.kinds["ocse_payer"])
    corridors = world.corridors["ocse_payer"]
    facilitators = hubs(
        max(3, round(n_payers * 0.09)),
        tuple(corridors),
        tuple(corridors.values()),
        (2, 6),
        0.83,
        0.5,
        0.4,
        False,
    )
    scale = max(1.0, customers / 1000)
    shops = hubs(round(6 * scale), ("PH", "TH"), (0.7, 0.3), (1, 4), 0.5, 0.6, 0.5, True)
    creators = hubs(
        round(3 * scale), ("PH", "TH", "CO", "MX"), (0.6, 0.2, 0.1, 0.1), (1, 3), 0.4, 0.6, 0.5, True
    )
    agencies = hubs(round(1.5 * scale), ("PH",), (1.0,), (2, 6), 0.3, 0.7, 0.6, False)
    parishes = hubs(round(1.0 * scale) + 2, ("PH",), (1.0,), (1, 3), 0.2, 0.8, 0.6, False)

    vpn = np.array([f"{p}.{rng.integers(2, 254)}" for p in ref.VPN_PREFIXES for _ in range(8)])
    travel = {
        c: np.array(
            [f"{p}.{rng.integers(0, 255)}.{rng.integers(2, 254)}" for p in prefixes for _ in range(20)]
        )
        for c, prefixes in ref.TRAVEL_PREFIXES.items()
    }
    return World(
        start,
        days,
        currencies,
        usd,
        zones,
        offsets,
        parties,
        merchants,
        employers,
        billers,
        landlords,
        charities,
        facilitators,
        shops,
        creators,
        agencies,
        parishes,
        vpn,
        travel,
        world,
    )
