"""Transactions of one chunk of customers, as integer-coded event arrays (strings come later, by `take`).

Bulk retail traffic (salary, rent, bills, card spend, cash, domestic and occasional foreign transfers) is
drawn for all customers at once. The few customers with a behaviour of interest (OCSE payers and every
innocent look-alike) get a short loop each: their schedules, payees and amounts follow typology.md. OCSE
payers are drawn here; each look-alike kind is a function in `lookalikes.py`, built on the helpers below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bantay.synth import reference as ref
from bantay.synth.codes import (
    ANY_P,
    BANK,
    BASE_P,
    CARD,
    CASH,
    CRYPTO,
    DAY_P,
    HANDLES,
    NIGHT_HOURS,
    NIGHT_WEIGHTS,
    NO_REF,
    REF,
    REF_VOCAB,
    REM,
    WALLET,
)
from bantay.synth.lookalikes import LOOKALIKES
from bantay.synth.population import KIND, KIND_NAMES, Chunk
from bantay.synth.world import DAY_US, MANILA_OFFSET_S, Hub, Parties, World, mix_id, person_abroad

# What each drawn row is, for the truth folder only (TRUTH/transactions.parquet); never a ledger column.
ROLES = ("ordinary", "suspected_payment", "payer_related_spend", "payer_travel", "lookalike")
ROLE = {name: code for code, name in enumerate(ROLES)}


@dataclass
class Events:
    """Append-only columns; `concat` gives one array per column."""

    parts: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, **cols: np.ndarray) -> None:
        for name, values in cols.items():
            self.parts.setdefault(name, []).append(values)

    def concat(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate(values) for name, values in self.parts.items()}


class Activity:
    """Draws one chunk's transactions. `local` holds the chunk's own counterparties (after the shared
    ones)."""

    def __init__(self, world: World, chunk: Chunk, rng: np.random.Generator) -> None:
        self.w, self.c, self.rng = world, chunk, rng
        self.local = Parties()
        self.base = len(world.parties)
        self.events = Events()
        self.local_refs: list[str] = []
        self.serial = 0
        self.ocse_first_us: dict[int, int] = {}
        self.ocse_count: dict[int, int] = {}
        self.abroad_first_us: dict[int, int] = {}
        # The truth role of the rows `emit` appends now (OCSE payments are always `suspected_payment`).
        self.role = ROLE["ordinary"]

    # ---- helpers -------------------------------------------------------------------------------------------
    def local_ref(self, text: str) -> int:
        self.local_refs.append(text)
        return len(REF_VOCAB) + len(self.local_refs) - 1

    def new_id(self, prefix: str) -> str:
        self.serial += 1
        return mix_id(prefix, np.array([self.c.index * 2**24 + self.serial]), 0xC0DE)[0]

    def payee(self, code: str, **kwargs: Any) -> int:
        idx = person_abroad(self.local, self.rng, ref.DESTINATIONS[code], self.new_id("B"), **kwargs)
        return self.base + idx

    def hours(self, n: int, p: np.ndarray = BASE_P) -> np.ndarray:
        return self.rng.choice(24, size=n, p=p)

    def night_mixed(self, n: int, night_share: float) -> np.ndarray:
        night = self.rng.random(n) < night_share
        return np.where(night, self.rng.choice(NIGHT_HOURS, size=n, p=NIGHT_WEIGHTS), self.hours(n, DAY_P))

    def emit(
        self,
        cust: np.ndarray | int,
        day: np.ndarray,
        hour: np.ndarray,
        *,
        out: bool | np.ndarray,
        channel: int | np.ndarray,
        usd: np.ndarray,
        cp: np.ndarray | int,
        ref_id: int | np.ndarray = NO_REF,
        online: bool | np.ndarray = False,
        round_to: float | np.ndarray = 0.0,
        land_php: float | np.ndarray = 0.0,
        cash_pickup: bool | np.ndarray = False,
        travel: int | np.ndarray = -1,
        ocse: bool = False,
        utc_offset_s: int | None = None,
        minute_s: np.ndarray | None = None,
        fixed_local: float | np.ndarray = 0.0,
    ) -> None:
        """Append events at local (day, hour) of each customer; drops those outside the window in UTC."""
        day = np.asarray(day, dtype=np.int64)
        n = len(day)
        if n == 0:
            return
        cust_arr = np.broadcast_to(np.asarray(cust, dtype=np.int64), (n,)).copy()
        secs = np.asarray(hour, dtype=np.int64) * 3600 + (
            minute_s if minute_s is not None else self.rng.integers(0, 3600, n)
        )
        if utc_offset_s is None:
            clipped = np.clip(day, 0, self.w.days)
            offset = self.w.tz_offset_s[self.c.zone[cust_arr], clipped]
        else:
            offset = np.full(n, utc_offset_s)
        ts = self.w.start_us + day * DAY_US + (secs - offset) * 1_000_000
        keep = (
            (ts >= self.w.start_us)
            & (ts < self.w.start_us + self.w.days * DAY_US)
            & (ts >= self.c.onboard_us[cust_arr])
        )

        def col(value: object, dtype: type) -> np.ndarray:
            column: np.ndarray = np.broadcast_to(np.asarray(value, dtype=dtype), (n,))[keep]
            return column

        online_arr = col(online, bool)
        vpn = online_arr & (self.rng.random(n)[keep] < self.c.vpn_rate[cust_arr[keep]])
        self.events.add(
            cust=cust_arr[keep],
            ts=ts[keep],
            out=col(out, bool),
            channel=col(channel, np.int8),
            usd=col(usd, np.float64),
            cp=col(cp, np.int64),
            ref=col(ref_id, np.int64),
            online=online_arr,
            vpn=vpn,
            round_to=col(round_to, np.float64),
            land_php=col(land_php, np.float64),
            cash_pickup=col(cash_pickup, bool),
            travel=col(travel, np.int8),
            ocse=col(ocse, bool),
            fixed_local=col(fixed_local, np.float64),
            role=col(ROLE["suspected_payment"] if ocse else self.role, np.int8),
        )

    def span(self, i: int) -> tuple[int, int]:
        """Days in the window when customer i is a customer: [first, last]."""
        return max(0, int(self.c.onboard_day[i])), self.w.days - 1

    def channel_mix(self, n: int, p: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
        """(channel, cash pick-up) for person-to-person payments abroad: p = remittance, bank, wallet,
        cash share."""
        draw = self.rng.random(n)
        channel = np.where(draw < p[0], REM, np.where(draw < p[0] + p[1], BANK, WALLET)).astype(np.int8)
        pickup = (channel == REM) & (self.rng.random(n) < p[3])
        return channel, pickup

    def round_amounts(self, usd: np.ndarray, share: float) -> np.ndarray:
        """round_to per payment: 5, 10 or 50 in the sending currency for a `share` of them, else cents."""
        is_round = self.rng.random(len(usd)) < share
        step = np.where(usd < 60, 5.0, np.where(usd < 250, 10.0, 50.0))
        return np.where(is_round, step, 0.0)

    def first_abroad(self, i: int, ts: int) -> None:
        self.abroad_first_us[i] = min(self.abroad_first_us.get(i, ts), ts)

    # ---- bulk retail ---------------------------------------------------------------------------------------
    def retail(self) -> None:
        c, w, rng = self.c, self.w, self.rng
        n = len(c)
        first = np.maximum(0, c.onboard_day)
        active = w.days - first
        # Card spending: Poisson per customer, categories by weight, merchants of the customer's country.
        counts = rng.poisson(c.activity * active)
        cust = np.repeat(np.arange(n), counts)
        day = first[cust] + (rng.random(len(cust)) * active[cust]).astype(np.int64)
        hour = self.hours(len(cust))
        hour = np.where(c.night_owl[cust], (hour + 9) % 24, hour)
        cat = rng.choice(
            len(ref.CARD_CATEGORIES), size=len(cust), p=np.array(ref.CARD_WEIGHTS) / sum(ref.CARD_WEIGHTS)
        )
        medians = np.array([m for _, _, _, m, _ in ref.CARD_CATEGORIES])
        online_cat = np.array([o for *_, o in ref.CARD_CATEGORIES])
        usd = medians[cat] * rng.lognormal(0.0, 0.6, len(cust))
        cp = np.empty(len(cust), dtype=np.int64)
        res = c.residence[cust]
        for r, residence in enumerate(ref.RESIDENCES):
            for k, (mcc, *_rest) in enumerate(ref.CARD_CATEGORIES):
                sel = np.flatnonzero((res == r) & (cat == k))
                pool = w.merchants[f"{mcc}:{residence.code}"]
                cp[sel] = pool[rng.integers(0, len(pool), len(sel))]
        self.emit(cust, day, hour, out=True, channel=CARD, usd=usd, cp=cp, online=online_cat[cat])

        # Cash at ATMs, round amounts.
        counts = rng.poisson(0.05 * active)
        cust = np.repeat(np.arange(n), counts)
        day = first[cust] + (rng.random(len(cust)) * active[cust]).astype(np.int64)
        cp = (
            np.array(
                [w.merchants[f"6011:{ref.RESIDENCES[r].code}"][0] for r in c.residence[cust]], dtype=np.int64
            )
            if len(cust)
            else np.zeros(0, dtype=np.int64)
        )
        self.emit(
            cust,
            day,
            self.hours(len(cust)),
            out=True,
            channel=CASH,
            usd=rng.choice([40, 60, 80, 120, 200], size=len(cust)) * 1.0,
            cp=cp,
            round_to=20.0,
        )

        # Monthly salary, rent and bills on fixed days.
        months = np.arange(-1, w.days // 28 + 2)
        month_starts = np.array([(w.start.replace(day=1) - w.start).days + int(m * 30.44) for m in months])
        salary_local = np.array([ref.RESIDENCES[r].salary_median for r in c.residence]) * rng.lognormal(
            0, 0.35, n
        )
        fx0 = w.usd_per_unit[c.ccy, 0]
        employed = np.array([o not in ("student", "unemployed", "homemaker") for o in c.occupation])
        employer = np.array([w.employers[ref.RESIDENCES[r].code][rng.integers(40)] for r in c.residence])
        pay_day = np.array([ref.RESIDENCES[r].salary_day for r in c.residence])
        ids = np.flatnonzero(employed)
        cust = np.repeat(ids, len(months))
        mday = np.tile(month_starts, len(ids)) + np.maximum(pay_day[cust], 1) - 1
        biweekly = pay_day[cust] == 0
        cust = np.concatenate([cust[~biweekly], np.repeat(ids[pay_day[ids] == 0], 2 * len(months))])
        biw_ids = ids[pay_day[ids] == 0]
        fridays = (4 - w.start.weekday()) % 7 + 14 * np.arange(len(months) * 2)
        mday = np.concatenate([mday[~biweekly], np.tile(fridays, len(biw_ids))])
        share = np.where(pay_day[cust] == 0, 0.5, 1.0)
        self.emit(
            cust,
            mday,
            rng.integers(2, 7, len(cust)),
            out=False,
            channel=BANK,
            usd=salary_local[cust] * share * fx0[cust],
            cp=employer[cust],
            ref_id=REF["salary"],
            fixed_local=np.round(salary_local[cust] * share, 2),
        )

        renter = rng.random(n) < 0.65
        ids = np.flatnonzero(renter)
        cust = np.repeat(ids, len(months))
        rent = np.array([ref.RESIDENCES[r].rent_median for r in c.residence]) * rng.lognormal(0, 0.3, n)
        landlord = np.array([w.landlords[ref.RESIDENCES[r].code][rng.integers(12)] for r in c.residence])
        self.emit(
            cust,
            np.tile(month_starts, len(ids)) + rng.integers(0, 3, len(cust)),
            rng.integers(7, 11, len(cust)),
            out=True,
            channel=BANK,
            usd=rent[cust] * fx0[cust],
            fixed_local=np.round(rent[cust]),
            cp=landlord[cust],
            ref_id=self.local_ref("rent"),
            online=True,
            round_to=1.0,
        )
        n_bills = rng.integers(2, 6, n)
        cust = np.repeat(np.arange(n), n_bills)
        which = (
            np.concatenate([rng.permutation(6)[:k] for k in n_bills]) if n else np.zeros(0, dtype=np.int64)
        )
        bill_cp = np.array(
            [w.billers[ref.RESIDENCES[c.residence[i]].code][b] for i, b in zip(cust, which, strict=True)],
            dtype=np.int64,
        )
        bill_usd = rng.lognormal(np.log(70), 0.5, len(cust))
        bill_day = rng.integers(1, 28, len(cust))
        cust_m = np.repeat(cust, len(months))
        self.emit(
            cust_m,
            np.tile(month_starts, len(cust)) + np.repeat(bill_day, len(months)),
            rng.integers(3, 8, len(cust_m)),
            out=True,
            channel=BANK,
            usd=np.repeat(bill_usd, len(months)) * rng.lognormal(0, 0.1, len(cust_m)),
            cp=np.repeat(bill_cp, len(months)),
            ref_id=self.local_ref("direct debit"),
        )

        # Domestic person-to-person transfers with a few friends and family of each customer (both ways).
        friends = self.domestic_people(n * 4).reshape(n, 4)
        for out, rate in ((True, 0.12), (False, 0.06)):
            counts = rng.poisson(rate * active)
            cust = np.repeat(np.arange(n), counts)
            day = first[cust] + (rng.random(len(cust)) * active[cust]).astype(np.int64)
            usd = rng.lognormal(np.log(45), 0.9, len(cust))
            words = np.array(
                [
                    NO_REF,
                    NO_REF,
                    REF["dinner split"],
                    REF["rent share"],
                    REF["thanks"],
                    REF["payment"],
                    REF["gift"],
                    REF["birthday"],
                    REF["holiday"],
                    REF["ticket"],
                    REF["for you"],
                    REF["groceries"],
                    REF["loan"],
                    REF["repayment"],
                ]
            )
            channel = np.where(rng.random(len(cust)) < 0.8, BANK, WALLET)
            self.emit(
                cust,
                day,
                self.hours(len(cust)),
                out=out,
                channel=channel,
                usd=usd,
                cp=friends[cust, rng.integers(0, 4, len(cust))],
                ref_id=words[rng.integers(0, len(words), len(cust))],
                online=True,
                round_to=np.where(rng.random(len(cust)) < 0.5, 5.0, 0.0),
            )

        # Occasional transfers abroad (family in Europe, a holiday let, a friend in Manila): a fifth of
        # customers.
        abroad = np.flatnonzero(rng.random(n) < 0.2)
        counts = rng.poisson(0.012 * active[abroad])
        cust = np.repeat(abroad, counts)
        if len(cust):
            day = first[cust] + (rng.random(len(cust)) * active[cust]).astype(np.int64)
            cp = self.foreign_people(len(cust))
            channel, pickup = self.channel_mix(len(cust), (0.3, 0.6, 0.1, 0.2))
            words = np.array(
                [
                    NO_REF,
                    NO_REF,
                    REF["payment"],
                    REF["gift"],
                    REF["holiday"],
                    REF["deposit"],
                    REF["family support"],
                    REF["birthday"],
                ]
            )
            self.emit(
                cust,
                day,
                self.hours(len(cust)),
                out=True,
                channel=channel,
                usd=rng.lognormal(np.log(220), 0.9, len(cust)) * w.profile.amount_scale,
                cp=cp,
                ref_id=words[rng.integers(0, len(words), len(cust))],
                online=True,
                cash_pickup=pickup,
                round_to=self.round_amounts(np.full(len(cust), 100.0), 0.5),
            )

        # Crypto purchases on exchanges (a few percent of customers), with the exchange as counterparty.
        ids = np.flatnonzero(rng.random(n) < 0.04)
        counts = rng.poisson(0.8 * active[ids] / 30.0)
        cust = np.repeat(ids, counts)
        day = first[cust] + (rng.random(len(cust)) * active[cust]).astype(np.int64)
        pool = w.merchants["crypto"]
        self.emit(
            cust,
            day,
            self.hours(len(cust), ANY_P),
            out=True,
            channel=CRYPTO,
            usd=rng.lognormal(np.log(150), 1.0, len(cust)),
            cp=pool[rng.integers(0, len(pool), len(cust))],
            online=True,
            round_to=np.where(rng.random(len(cust)) < 0.6, 10.0, 0.0),
        )

        # Subscriptions that offenders also buy (O8), common among ordinary customers: VPN, dating, capture
        # tools.
        for kind, buyer_share, per_month in (
            ("vpn", 0.12, 1.0),
            ("dating", 0.08, 1.0),
            ("screen_capture", 0.015, 0.2),
            ("cleaner", 0.01, 0.3),
            ("webcam", 0.01, 0.8),
            ("adult", 0.012, 0.8),
        ):
            ids = np.flatnonzero(rng.random(n) < buyer_share)
            counts = rng.poisson(per_month * active[ids] / 30.0)
            self.related_spend(np.repeat(ids, counts), kind)

    def related_spend(
        self, cust: np.ndarray, kind: str, days: np.ndarray | None = None, hours: np.ndarray | None = None
    ) -> None:
        if len(cust) == 0:
            return
        first = np.maximum(0, self.c.onboard_day[cust])
        if days is None:
            days = first + (self.rng.random(len(cust)) * (self.w.days - first)).astype(np.int64)
        pool = self.w.merchants[f"related:{kind}"]
        cp = pool[self.rng.integers(0, len(pool), len(cust))]
        medians = {name: m for _, name, _, m, _ in ref.RELATED_MERCHANTS}
        names = [self.w.parties.names[k][0] for k in cp]
        usd = np.array([medians[name] for name in names]) * self.rng.lognormal(0, 0.35, len(cust))
        self.emit(
            cust,
            days,
            self.hours(len(cust)) if hours is None else hours,
            out=True,
            channel=CARD,
            usd=usd,
            cp=cp,
            online=True,
        )

    def domestic_people(self, n: int) -> np.ndarray:
        """Friends and family at home: one block of payees per customer, with IBAN-like accounts."""
        start = len(self.local)
        res = np.repeat(self.c.residence, n // max(1, len(self.c)))
        nat = np.repeat(np.array(self.c.nationality, dtype=object), n // max(1, len(self.c)))
        firsts = self.rng.random(n)
        surnames = self.rng.random(n)
        ids = mix_id("P", np.arange(n) + self.c.index * 2**24 + 2**23, 0xD0)
        accounts = self.rng.integers(10**9, 10**10, n)
        for k in range(n):
            origin = (
                ref.NAME_ORIGIN[nat[k]]
                if self.rng.random() < 0.5
                else ref.NAME_ORIGIN[ref.RESIDENCES[res[k]].code]
            )
            pool = ref.FIRST_FEMALE[origin] if firsts[k] < 0.5 else ref.FIRST_MALE[origin]
            first = pool[int(firsts[k] * 2 * len(pool)) % len(pool)]
            last = ref.SURNAMES[origin][int(surnames[k] * len(ref.SURNAMES[origin]))]
            code = ref.RESIDENCES[res[k]].code
            self.local.add(ids[k], f"{first} {last}", code, None, None, f"{code}00BANK{accounts[k]}")
        return self.base + np.arange(start, start + n)

    def foreign_people(self, n: int) -> np.ndarray:
        out = np.empty(n, dtype=np.int64)
        countries = self.rng.choice(len(ref.DOMESTIC_FOREIGN), size=n)
        for k in range(n):
            code = ref.DOMESTIC_FOREIGN[countries[k]]
            if code in ref.DESTINATIONS:
                out[k] = self.payee(code)
            else:
                origin = {"ES": "ES", "PL": "PL", "IN": "IN", "DE": "DE", "NL": "NL", "MX": "ES"}.get(
                    code, "EN"
                )
                first = ref.FIRST_MALE[origin][self.rng.integers(len(ref.FIRST_MALE[origin]))]
                last = ref.SURNAMES[origin][self.rng.integers(len(ref.SURNAMES[origin]))]
                out[k] = self.base + self.local.add(
                    self.new_id("P"),
                    f"{first} {last}",
                    code,
                    ref.DOMESTIC_FOREIGN_CURRENCY_CITY[code],
                    None,
                    f"{code}{self.rng.integers(10**12, 10**13)}",
                )
        return out

    # ---- OCSE payers ---------------------------------------------------------------------------------------
    def ocse_payer(self, i: int) -> None:
        """One offender: O1-O12 with varied strengths (typology.md). Loops here are over one payer's
        payments."""
        c, w, rng = self.c, self.w, self.rng
        knobs = w.profile
        lo, hi = self.span(i)
        # Payers start at different dates; about a third were already paying when the window opens.
        start = lo if rng.random() < 0.33 else int(rng.integers(lo, max(lo + 1, hi - 10)))
        span = hi - start + 1
        # O2: heavy-tailed activity, mean about 10, a quarter with 1-2 payments, prolific ones up to 2 a day.
        activity = knobs.payer_activity
        n = int(min(1 + np.floor(rng.pareto(activity.pareto_shape) * activity.pareto_scale), 2 * span, 400))
        escalates = n >= 6 and rng.random() < 0.6
        if escalates:  # O3: gaps shrink from about three weeks to 1-3 days, amounts rise 1.5-3x
            gaps = np.exp(np.linspace(np.log(21), np.log(rng.uniform(1, 3)), n - 1)) * rng.lognormal(
                0, 0.35, n - 1
            )
            if gaps.sum() > span - 1:
                gaps *= (span - 1) / gaps.sum()
            t = start + np.concatenate([[0.0], np.cumsum(gaps)])
            growth = 1 + (rng.uniform(1.5, 3.0) - 1) * np.linspace(0, 1, n)
        else:
            t = np.sort(start + rng.random(n) * span)
            t[0] = start + rng.random() * min(span, 5)
            growth = np.ones(n)
        day = np.minimum(np.floor(t).astype(np.int64), hi)
        # O12: bursts of 2-4 payments within two hours.
        burst_rate = rng.choice([0.0, 0.1, 0.25], p=[0.4, 0.4, 0.2])
        extra = np.where(rng.random(n) < burst_rate, rng.integers(1, 4, n), 0)
        parent = np.repeat(np.arange(n), 1 + extra)
        lead = np.concatenate([[True], parent[1:] != parent[:-1]])
        m = len(parent)
        # O5: night hours in the sender's own zone; weak for Australia (Manila is only 2-3 hours behind).
        is_au = ref.RESIDENCES[c.residence[i]].code == "AU"
        if rng.random() < 0.15:
            night = rng.uniform(0.03, 0.15)  # daytime payers exist
        else:
            night = rng.beta(3, 3.5) * 0.55 + 0.05 if is_au else rng.beta(6, 4.5) * 0.6 + 0.25
        hour = self.night_mixed(n, night)[parent]
        minute = rng.integers(0, 3600, n)[parent] + np.where(lead, 0, rng.integers(300, 6600, m))
        overflow = minute >= 3600
        hour = np.where(overflow, (hour + minute // 3600) % 24, hour)
        minute = minute % 3600
        # O1: log-normal around USD 45 (5th-95th percentile about 12-200); some payers send USD 150-500.
        median = (
            knobs.payer_amounts.median_usd
            * knobs.amount_scale
            * rng.lognormal(0, 0.22)
            * (rng.uniform(3.5, 6) if rng.random() < 0.08 else 1.0)
        )
        usd = np.clip(median * growth[parent] * rng.lognormal(0, knobs.payer_amounts.sigma, m), 5, 2500)
        # O6: round in the sending currency, or landing on PHP 1,000 / 2,000 / 3,000.
        round_share = float(np.clip(rng.normal(0.7, 0.12), 0.2, 0.95))
        round_to = self.round_amounts(usd, round_share)
        # O4 / F2 / F5: payees from the payer's own clusters and, for some, shared facilitator clusters.
        corridors = knobs.corridors["ocse_payer"]
        dest = tuple(corridors)[rng.choice(len(corridors), p=np.array(tuple(corridors.values())))]
        land = np.where(
            (round_to > 0) & (rng.random(m) < (0.35 if dest == "PH" else 0.0)),
            np.clip(np.round(usd / 18.0), 1, 9) * 1000 / 1.0,
            0.0,
        )
        round_to = np.where(land > 0, 0.0, round_to)
        cp = self.ocse_payees(i, m, dest, lead)
        # O9: money transfer ~60% (cash pick-up and e-wallet), bank ~35%, crypto or gift cards ~5%.
        channel, pickup = self.channel_mix(m, (0.6, 0.35, 0.0, 0.5))
        other = rng.random(m) < 0.05
        gift = other & (rng.random(m) < 0.4)
        channel = np.where(other, np.where(gift, CARD, CRYPTO), channel).astype(np.int8)
        cp = np.where(
            gift,
            w.merchants["giftcard"][rng.integers(0, len(w.merchants["giftcard"]), m)],
            np.where(other, w.merchants["crypto"][rng.integers(0, len(w.merchants["crypto"]), m)], cp),
        )
        pickup &= ~other
        land = np.where(other, 0.0, land)
        # O7: innocent-sounding references or a social handle in 30-50% of payments, varying by payer.
        ref_share = float(np.clip(rng.normal(0.4, 0.15), 0.0, 0.9))
        words = np.array([REF[r] for r in ref.REF_INNOCENT_SOUNDING] + [REF[h] for h in HANDLES])
        plain = np.array([NO_REF, NO_REF, NO_REF, REF["payment"], REF["for you"], REF["help"], REF["load"]])
        ref_id = np.where(
            rng.random(m) < ref_share,
            words[rng.integers(0, len(words), m)],
            plain[rng.integers(0, len(plain), m)],
        )
        before = len(self.events.parts.get("ts", []))
        self.emit(
            i,
            day[parent],
            hour,
            minute_s=minute,
            out=True,
            channel=channel,
            usd=usd,
            cp=cp,
            ref_id=ref_id,
            online=True,
            round_to=round_to,
            land_php=land,
            cash_pickup=pickup,
            ocse=True,
        )
        added = self.events.parts.get("ts", [])
        # emit drops payments outside the window or before onboarding: all of them, now and then.
        if len(added) > before and added[-1].size:
            ts = added[-1]
            self.ocse_first_us[i] = int(ts.min())
            self.ocse_count[i] = len(ts)
            self.first_abroad(i, int(ts.min()))
        # O8: 1-4 related card payments a month for most payers (webcam, tokens, dating, VPN, capture,
        # cleaners).
        if rng.random() < 0.7:
            per_month = rng.uniform(1, 4)
            k = rng.poisson(per_month * span / 30)
            kinds = rng.choice(
                ["webcam", "tokens", "dating", "vpn", "screen_capture", "cleaner", "adult"],
                size=k,
                p=[0.25, 0.2, 0.15, 0.15, 0.08, 0.07, 0.1],
            )
            days = start - 20 + (rng.random(k) * (span + 20)).astype(np.int64)
            self.role = ROLE["payer_related_spend"]
            for kind in np.unique(kinds):
                sel = kinds == kind
                self.related_spend(
                    np.full(int(sel.sum()), i),
                    str(kind),
                    np.maximum(days[sel], 0),
                    self.night_mixed(int(sel.sum()), night),
                )
            self.role = ROLE["ordinary"]
        # O11: after escalation some travel: a ticket, then a stay with hotel, heavy ATM cash and jewellery.
        if escalates and n >= 10 and rng.random() < 0.3:
            self.role = ROLE["payer_travel"]
            self.trip(i, int(day[int(n * 0.8)]), dest, tourist=False)
            self.role = ROLE["ordinary"]

    def ocse_payees(self, i: int, m: int, dest: str, lead: np.ndarray) -> np.ndarray:
        """Payee per payment: churn through new clusters (O4), take turns inside a cluster (F2), shared
        ones (F5)."""
        rng = self.rng
        clusters: list[np.ndarray] = []

        def private_cluster(code: str, surname: str | None = None) -> np.ndarray:
            size = int(rng.integers(1, 5))
            family = surname or (
                ref.SURNAMES[ref.DESTINATIONS[code].origin][
                    rng.integers(len(ref.SURNAMES[ref.DESTINATIONS[code].origin]))
                ]
                if rng.random() < 0.8
                else None
            )
            first = self.payee(code, surname=family)
            phone = self.local.phones[first - self.base] if rng.random() < 0.5 else None
            members = [first] + [
                self.payee(code, surname=family, phone=phone, city=self.local.city[first - self.base])
                for _ in range(size - 1)
            ]
            return np.array(members)

        shared: Hub | None = None
        codes = tuple(self.w.profile.corridors["ocse_payer"])
        # F5: 20-40% of payers share a facilitator cluster with another payer (default world: a third).
        if rng.random() < self.w.profile.shared_facilitator_share:
            hubs = [h for h in self.w.facilitators if h.country == dest] or self.w.facilitators
            weights = np.array([h.weight for h in hubs])
            shared = hubs[rng.choice(len(hubs), p=weights / weights.sum())]
        own_surname = self.c.surname[i] if rng.random() < 0.08 else None
        p_new = rng.uniform(0.2, 0.5)
        out = np.empty(m, dtype=np.int64)
        current = private_cluster(
            dest if rng.random() < 0.85 else codes[rng.integers(len(codes))], None
        )
        clusters.append(current)
        if own_surname:
            clusters.append(private_cluster(dest, own_surname))
        turn = 0
        shared_share = rng.uniform(0.3, 0.7)
        for k in range(m):
            if shared is not None and (k == 0 or rng.random() < shared_share):
                out[k] = shared.members[rng.integers(len(shared.members))]
                continue
            if k > 0 and lead[k] and rng.random() < p_new:
                if rng.random() < 0.5:
                    current = private_cluster(dest)
                    clusters.append(current)
                else:
                    current = clusters[rng.integers(len(clusters))]
            turn += 1
            out[k] = current[turn % len(current)]
        return out

    def trip(self, i: int, day: int, code: str, tourist: bool) -> None:
        """An airline ticket, then a stay abroad: hotel nights, ATM cash, a restaurant, sometimes
        jewellery."""
        rng, w = self.rng, self.w
        self.emit(
            i,
            np.array([day]),
            self.hours(1),
            out=True,
            channel=CARD,
            usd=np.array([rng.uniform(700, 1500)]),
            cp=w.merchants["airline"][rng.integers(len(w.merchants["airline"]))],
            online=True,
        )
        arrive = day + int(rng.integers(7, 22))
        stay = int(rng.integers(7, 21))
        pool = w.merchants[f"abroad:{code}"]
        city_rows = pool.reshape(-1, 4)
        # Tourists go where tourists go (the first cities listed); others stay in one town outside them.
        row = city_rows[rng.integers(0, 2) if tourist else rng.integers(2, len(city_rows))]
        days = arrive + np.arange(stay)
        travel_idx = list(ref.TRAVEL_PREFIXES).index(code) if code in ref.TRAVEL_PREFIXES else -1
        atm_share = 0.3 if tourist else 0.8
        atm = rng.random(stay) < atm_share
        self.emit(
            i,
            days[atm],
            rng.integers(9, 22, int(atm.sum())),
            out=True,
            channel=CASH,
            usd=rng.uniform(170, 360, int(atm.sum())),
            cp=row[1],
            round_to=0.0,
            utc_offset_s=MANILA_OFFSET_S,
            travel=travel_idx,
        )
        self.emit(
            i,
            days,
            rng.integers(18, 23, stay),
            out=True,
            channel=CARD,
            usd=rng.lognormal(np.log(25), 0.5, stay),
            cp=row[3],
            utc_offset_s=MANILA_OFFSET_S,
            travel=travel_idx,
        )
        self.emit(
            i,
            np.array([days[-1]]),
            np.array([11]),
            out=True,
            channel=CARD,
            usd=np.array([rng.uniform(35, 90) * stay]),
            cp=row[0],
            utc_offset_s=MANILA_OFFSET_S,
            travel=travel_idx,
        )
        if not tourist or rng.random() < 0.2:
            k = int(rng.integers(1, 3))
            self.emit(
                i,
                days[rng.integers(0, stay, k)],
                rng.integers(10, 20, k),
                out=True,
                channel=CARD,
                usd=rng.uniform(150, 900, k),
                cp=row[2],
                utc_offset_s=MANILA_OFFSET_S,
                travel=travel_idx,
            )

    # ---- what the innocent look-alikes (lookalikes.py) are built from --------------------------------------
    def periodic(self, i: int, every: float, jitter: float, offset: float | None = None) -> np.ndarray:
        lo, hi = self.span(i)
        first = lo + (self.rng.uniform(0, every) if offset is None else offset)
        t = np.arange(first, hi + 1, every)
        return np.clip(np.round(t + self.rng.normal(0, jitter, len(t))), lo, hi).astype(np.int64)

    def family_payees(self, i: int, code: str, k: int, share_phone: float) -> np.ndarray:
        surname = self.c.surname[i] if self.c.nationality[i] == code else None
        first = self.payee(code, surname=surname, female=None)
        phone = self.local.phones[first - self.base] if self.rng.random() < share_phone else None
        city = self.local.city[first - self.base]
        return np.array(
            [first]
            + [
                self.payee(
                    code,
                    surname=surname or self.local.names[first - self.base][0].split()[-1],
                    phone=phone,
                    city=city,
                )
                for _ in range(k - 1)
            ]
        )

    def p2p(
        self,
        i: int,
        days: np.ndarray,
        hours: np.ndarray,
        usd: np.ndarray,
        cp: np.ndarray,
        words: np.ndarray,
        mix: tuple[float, float, float, float],
        round_share: float,
        ref_share: float = 0.5,
        land_share: float = 0.0,
    ) -> None:
        m = len(days)
        if m == 0:
            return
        rng = self.rng
        usd = usd * self.w.profile.amount_scale  # the book's price level, innocents' amounts as payers'
        channel, pickup = self.channel_mix(m, mix)
        round_to = self.round_amounts(usd, round_share)
        countries = np.array([self.party_country(p) for p in np.atleast_1d(cp)])
        land = np.where(
            (round_to > 0) & (countries == "PH") & (rng.random(m) < land_share),
            np.clip(np.round(usd / 18.0 / 5) * 5, 1, 60) * 1000.0,
            0.0,
        )
        ref_id = np.where(rng.random(m) < ref_share, words[rng.integers(0, len(words), m)], NO_REF)
        self.emit(
            i,
            days,
            hours,
            out=True,
            channel=channel,
            usd=usd,
            cp=cp,
            ref_id=ref_id,
            online=True,
            round_to=np.where(land > 0, 0.0, round_to),
            land_php=land,
            cash_pickup=pickup,
        )
        ts = self.events.parts["ts"][-1]
        if len(ts):
            self.first_abroad(i, int(ts.min()))

    def party_country(self, p: int) -> str:
        return self.w.parties.country[p] if p < self.base else self.local.country[p - self.base]

    def hub_member(self, hubs: list[Hub], m: int, favourites: int) -> np.ndarray:
        """Members of popular hubs (weighted by popularity); each customer keeps to a few favourites."""
        weights = np.array([h.weight for h in hubs])
        chosen = self.rng.choice(
            len(hubs), size=min(favourites, len(hubs)), replace=False, p=weights / weights.sum()
        )
        picks = chosen[self.rng.integers(0, len(chosen), m)]
        return np.array(
            [hubs[h].members[self.rng.integers(len(hubs[h].members))] for h in picks], dtype=np.int64
        )

    def run(self) -> dict[str, np.ndarray]:
        self.retail()
        for i in np.flatnonzero(self.c.kind != KIND["retail"]).tolist():
            kind = KIND_NAMES[self.c.kind[i]]
            if kind == "ocse_payer":
                self.ocse_payer(i)
            else:
                self.role = ROLE["lookalike"]
                LOOKALIKES[kind](self, i)
                self.role = ROLE["ordinary"]
        # A few ordinary customers holiday in Thailand or the Philippines (tourist towns), like the
        # travellers.
        for i in np.flatnonzero(self.rng.random(len(self.c)) < 0.01).tolist():
            lo, _ = self.span(i)
            if self.w.days - lo > 40:
                self.trip(
                    i,
                    int(self.rng.integers(lo, self.w.days - 30)),
                    ("PH", "TH")[int(self.rng.random() < 0.6)],
                    tourist=True,
                )
        return self.events.concat()
