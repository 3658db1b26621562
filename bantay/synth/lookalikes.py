"""Innocent look-alikes of the typology (typology.md, "Innocent look-alikes"): one function per kind.

`LOOKALIKES` maps each kind `population.KINDS` draws (but `retail` and `ocse_payer`) to the function that
writes one such customer's payments into an `Activity`. Each function draws from the activity's generator in
a fixed order, so the same seed gives the same ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from bantay.synth import reference as ref
from bantay.synth.codes import ANY_P, BANK, CARD, HANDLE_REF, HANDLES, REF

if TYPE_CHECKING:
    from bantay.synth.activity import Activity

# Why a family sends money: the references of remittances home.
FAMILY_WORDS = (
    "school fees",
    "medical",
    "family support",
    "padala",
    "allowance",
    "tuition",
    "Merry Christmas",
    "bills",
    "uniform",
    "gift",
)


def _words(*names: str) -> np.ndarray:
    return np.array([REF[name] for name in names])


def _corridor(act: Activity, kind: str) -> str:
    """A destination country for one `kind` customer, by the world's corridor weights (one uniform draw)."""
    weights = act.w.profile.corridors[kind]
    return tuple(weights)[act.rng.choice(len(weights), p=np.array(tuple(weights.values())))]


def _month(day: int, act: Activity) -> int:
    return date.fromordinal(act.w.start.toordinal() + day).month


def _family_remittances(act: Activity, i: int, code: str) -> None:
    """USD 200-500 monthly or twice monthly to 1-3 relatives in `code`, peaking in June and December."""
    rng = act.rng
    payees = act.family_payees(i, code, int(rng.integers(1, 4)), 0.5)
    twice = rng.random() < 0.35
    days = act.periodic(i, 15.2 if twice else 30.44, 1.5)
    # December and June peaks: a second payment (Christmas, school opening).
    peak = np.isin([_month(int(d), act) for d in days], (6, 12))
    days = np.concatenate([days, days[peak] + 3])
    base = rng.uniform(200, 500) * (0.6 if twice else 1.0)
    usd = base * rng.lognormal(0, 0.12, len(days))
    night = 0.4 if rng.random() < 0.15 else 0.08  # night-shift nurses and carers
    act.p2p(
        i,
        days,
        act.night_mixed(len(days), night),
        usd,
        payees[rng.integers(0, len(payees), len(days))],
        _words(*FAMILY_WORDS),
        mix=(0.62, 0.28, 0.1, 0.4),
        round_share=0.8,
        ref_share=0.55,
        land_share=0.4,
    )
    if rng.random() < 0.4:
        _load_top_ups(act, i, code, payees)


def _load_top_ups(act: Activity, i: int, code: str, payees: np.ndarray) -> None:
    """Small top-ups ("load") to younger relatives, sometimes new ones: about two a month."""
    rng, w = act.rng, act.w
    extra = np.concatenate([payees, act.family_payees(i, code, 1, 0.0)])
    k = rng.poisson(2 * (w.days - act.span(i)[0]) / 30)
    days = act.span(i)[0] + rng.integers(0, w.days - act.span(i)[0], k)
    act.p2p(
        i,
        days,
        act.night_mixed(k, 0.15),
        rng.lognormal(np.log(20), 0.5, k),
        extra[rng.integers(0, len(extra), k)],
        _words("load", "allowance", "gift", "birthday"),
        mix=(0.4, 0.1, 0.5, 0.3),
        round_share=0.7,
        ref_share=0.6,
        land_share=0.2,
    )


def ofw(act: Activity, i: int) -> None:
    """An overseas Filipino worker: remittances home to the Philippines."""
    _family_remittances(act, i, "PH")


def diaspora(act: Activity, i: int) -> None:
    """A migrant from another destination country: remittances home to the customer's nationality."""
    _family_remittances(act, i, act.c.nationality[i])


def mixed_family(act: Activity, i: int) -> None:
    """Support for a wife or in-laws in PH or TH: one or two stable payees, larger monthly sums, and
    sometimes a trip to their home town."""
    rng, w = act.rng, act.w
    code = _corridor(act, "mixed_family")
    payees = act.family_payees(i, code, int(rng.integers(1, 3)), 0.4)
    days = act.periodic(i, 30.44, 2.0)
    usd = rng.uniform(300, 900) * rng.lognormal(0, 0.08, len(days))
    k = rng.poisson(2)
    days = np.concatenate([days, act.span(i)[0] + rng.integers(0, w.days - act.span(i)[0], k)])
    usd = np.concatenate([usd, rng.uniform(100, 300, k)])
    act.p2p(
        i,
        days,
        act.hours(len(days)),
        usd,
        payees[rng.integers(0, len(payees), len(days))],
        _words("family support", "medical", "gift", "bills", "allowance", "school fees"),
        mix=(0.45, 0.5, 0.05, 0.2),
        round_share=0.75,
        ref_share=0.5,
    )
    if rng.random() < 0.4:
        lo = act.span(i)[0]
        act.trip(i, int(rng.integers(lo, max(lo + 1, w.days - 30))), code, tourist=False)


def child_sponsor(act: Activity, i: int) -> None:
    """A fixed USD 25-43 monthly direct debit to a domestic charity."""
    rng, w = act.rng, act.w
    pool = w.charities[ref.RESIDENCES[act.c.residence[i]].code]
    days = act.periodic(i, 30.44, 0.0)
    amount = rng.uniform(25, 43)
    usd = np.full(len(days), amount)
    fixed = round(amount / w.usd_per_unit[act.c.ccy[i], 0])  # a fixed direct debit in local currency
    act.emit(
        i,
        days,
        rng.integers(4, 8, len(days)),
        out=True,
        channel=BANK,
        usd=usd,
        fixed_local=fixed,
        cp=pool[rng.integers(len(pool))],
        ref_id=act.local_ref(f"SPONSOR {rng.integers(10**5, 10**6)}"),
        round_to=1.0,
    )


def _contractor_payments(act: Activity, i: int, weekly: bool) -> None:
    """Invoices paid on weekdays to one or two people abroad (or an agency): weekly USD 80-250, else USD
    300-1,500 fortnightly or monthly."""
    rng, w = act.rng, act.w
    codes = ("PH", "PH", "PH", "CO", "MX", "RO")
    if weekly and rng.random() < 0.5:
        payees = act.hub_member(w.agencies, 3, 1)
    else:
        payees = np.array([act.payee(codes[rng.integers(len(codes))]) for _ in range(rng.integers(1, 3))])
    days = act.periodic(i, 7.0 if weekly else (14.0 if rng.random() < 0.5 else 30.44), 0.5)
    days = days[np.isin([(w.start.toordinal() + int(d)) % 7 for d in days], (0, 1, 2, 3, 4))]
    base = rng.uniform(80, 250) if weekly else rng.uniform(300, 1500)
    usd = base * rng.lognormal(0, 0.05, len(days))
    invoice = np.array(
        [act.local_ref(f"INV-{rng.integers(1000, 9999)}") for _ in range(3)]
        + [REF["invoice"], REF["services rendered"]]
    )
    act.p2p(
        i,
        days,
        rng.integers(9, 18, len(days)),
        usd,
        payees[rng.integers(0, len(payees), len(days))],
        invoice,
        mix=(0.2, 0.5, 0.3, 0.1),
        round_share=0.6,
        ref_share=0.8,
    )


def freelancer_payer(act: Activity, i: int) -> None:
    """A customer who pays a freelancer abroad, fortnightly or monthly."""
    _contractor_payments(act, i, weekly=False)


def small_business_va(act: Activity, i: int) -> None:
    """A small business that pays virtual assistants weekly, half of them through an agency."""
    _contractor_payments(act, i, weekly=True)


def romance_victim(act: Activity, i: int) -> None:
    """One "partner" abroad: 4-15 payments, each crisis 40% dearer, some followed by gift cards the next
    day."""
    rng, w = act.rng, act.w
    code = _corridor(act, "romance_victim")
    partner = np.array([act.payee(code, female=act.c.gender[i] == "M")])
    n = int(rng.integers(4, 16))
    lo, hi = act.span(i)
    start = int(rng.integers(lo, max(lo + 1, hi - 30)))
    days = np.minimum(start + np.cumsum(rng.integers(4, 20, n)) - 4, hi)
    usd = 200 * 1.4 ** np.arange(n) * rng.lognormal(0, 0.2, n)
    m_channel = rng.random(n)
    act.p2p(
        i,
        days,
        act.hours(n),
        np.minimum(usd, 9000),
        np.repeat(partner, n),
        _words("hospital", "emergency", "ticket", "loan", "medical", "help"),
        mix=(0.35, 0.65, 0.0, 0.3),
        round_share=0.6,
        ref_share=0.7,
    )
    gifts = np.flatnonzero(m_channel < 0.15)
    if len(gifts):
        act.emit(
            i,
            days[gifts] + 1,
            act.hours(len(gifts)),
            out=True,
            channel=CARD,
            usd=rng.uniform(100, 500, len(gifts)),
            cp=w.merchants["giftcard"][rng.integers(0, len(w.merchants["giftcard"]), len(gifts))],
            online=True,
            round_to=50.0,
        )


def webcam_customer(act: Activity, i: int) -> None:
    """Legal webcam, token and adult-site card spending, 3-15 a month, half at night; no remittances."""
    rng, w = act.rng, act.w
    lo, _ = act.span(i)
    k = rng.poisson(rng.uniform(3, 15) * (w.days - lo) / 30)
    kinds = rng.choice(["webcam", "tokens", "adult"], size=k, p=[0.5, 0.3, 0.2])
    for kind in np.unique(kinds):
        sel = int((kinds == kind).sum())
        act.related_spend(np.full(sel, i), str(kind), hours=act.night_mixed(sel, 0.5))


def sextortion_victim(act: Activity, i: int) -> None:
    """1-4 payments within about ten days, up to USD 1,600, to one or two payees abroad; then nothing."""
    rng = act.rng
    code = _corridor(act, "sextortion_victim")
    payees = np.array([act.payee(code) for _ in range(rng.integers(1, 3))])
    n = int(rng.integers(1, 5))
    lo, hi = act.span(i)
    start = int(rng.integers(lo, hi + 1))
    days = np.minimum(start + np.sort(rng.integers(0, 10, n)), hi)
    usd = np.minimum(rng.lognormal(np.log(400), 0.6, n), 1600)
    act.p2p(
        i,
        days,
        act.night_mixed(n, 0.6),
        usd,
        payees[rng.integers(0, len(payees), n)],
        _words("payment", "help"),
        mix=(0.5, 0.2, 0.3, 0.3),
        round_share=0.6,
        ref_share=0.2,
    )


def online_buyer(act: Activity, i: int) -> None:
    """USD 6-120 to marketplace sellers in PH or TH, 2-10 a month at any hour; most to popular shops."""
    rng, w = act.rng, act.w
    lo, _ = act.span(i)
    active = w.days - lo
    k = rng.poisson(rng.uniform(2, 10) * active / 30)
    popular = rng.random(k) < w.profile.popular_payee_share["online_buyer"]
    private = np.array(
        [
            act.payee(_corridor(act, "online_buyer"), wallet_share=0.7)
            for _ in range(int((~popular).sum()))
        ],
        dtype=np.int64,
    )
    cp = act.hub_member(w.shops, k, 6)
    cp[~popular] = private
    usd = np.clip(rng.lognormal(np.log(28), 0.55, k), 6, 120)
    act.p2p(
        i,
        lo + rng.integers(0, active, k),
        act.hours(k, ANY_P),
        usd,
        cp,
        np.array(
            [
                HANDLE_REF,
                HANDLE_REF,
                REF["order"],
                REF["payment"],
                act.local_ref(f"order #{rng.integers(10**4, 10**6)}"),
            ]
        ),
        mix=(0.3, 0.2, 0.5, 0.15),
        round_share=0.35,
        ref_share=0.6,
    )


def gamer_tipper(act: Activity, i: int) -> None:
    """USD 2-150 tips to streamers and creators, 2-12 a month, some at night; most to popular creators."""
    rng, w = act.rng, act.w
    lo, _ = act.span(i)
    active = w.days - lo
    k = rng.poisson(rng.uniform(2, 12) * active / 30)
    popular = rng.random(k) < w.profile.popular_payee_share["gamer_tipper"]
    cp = act.hub_member(w.creators, k, 4)
    cp[~popular] = [
        act.payee(("PH", "TH", "MX")[rng.integers(3)], wallet_share=0.8) for _ in range(int((~popular).sum()))
    ]
    act.p2p(
        i,
        lo + rng.integers(0, active, k),
        act.night_mixed(k, 0.35),
        np.clip(rng.lognormal(np.log(15), 0.7, k), 2, 150),
        cp,
        np.array([HANDLE_REF, REF["tips"], REF["thanks"], REF["gift"]] + [REF[h] for h in HANDLES]),
        mix=(0.15, 0.05, 0.8, 0.1),
        round_share=0.6,
        ref_share=0.7,
    )


def church_donor(act: Activity, i: int) -> None:
    """A fixed USD 10-100 on Sundays, weekly or monthly, to one parish abroad."""
    rng, w = act.rng, act.w
    lo, _ = act.span(i)
    weekly = rng.random() < 0.4
    days = act.periodic(i, 7.0 if weekly else 30.44, 0.3)
    days = days - ((w.start.toordinal() + days) % 7 - 6) % 7  # Sundays
    days = days[days >= lo]
    cp = act.hub_member(w.parishes, len(days), 1)
    act.p2p(
        i,
        days,
        rng.integers(7, 13, len(days)),
        rng.uniform(10, 100) * np.ones(len(days)),
        cp,
        np.array([REF["donation"], REF["tithe"], act.local_ref("mass offering")]),
        mix=(0.4, 0.4, 0.2, 0.1),
        round_share=0.9,
        ref_share=0.9,
    )


def online_dater(act: Activity, i: int) -> None:
    """A dating-site subscription, and USD 10-600 gifts to 1-3 women abroad, one after another; a fifth
    escalate."""
    rng, w = act.rng, act.w
    act.related_spend(np.full(rng.poisson((w.days - act.span(i)[0]) / 30), i), "dating")
    code = _corridor(act, "online_dater")
    lo, hi = act.span(i)
    k = rng.poisson(rng.uniform(1, 4) * (hi - lo + 1) / 30)
    n_women = int(rng.integers(1, 4))
    women = np.array([act.payee(code, female=True) for _ in range(n_women)])
    days = np.sort(lo + rng.integers(0, hi - lo + 1, k))
    who = np.minimum((np.arange(k) * n_women) // max(k, 1), n_women - 1)  # one after another
    escalate = 1 + (rng.uniform(1, 3) - 1) * np.linspace(0, 1, k) if rng.random() < 0.2 else np.ones(k)
    usd = np.clip(rng.lognormal(np.log(50), 0.6, k) * escalate, 10, 600)
    act.p2p(
        i,
        days,
        act.night_mixed(k, 0.25),
        usd,
        women[who],
        np.array(
            [REF["gift"], REF["load"], REF["for you"], REF["birthday"], REF["help"]]
            + [REF[h] for h in HANDLES]
        ),
        mix=(0.7, 0.1, 0.2, 0.4),
        round_share=0.6,
        ref_share=0.5,
        land_share=0.3,
    )


LOOKALIKES: dict[str, Callable[[Activity, int], None]] = {
    "ofw": ofw,
    "diaspora": diaspora,
    "mixed_family": mixed_family,
    "child_sponsor": child_sponsor,
    "freelancer_payer": freelancer_payer,
    "small_business_va": small_business_va,
    "romance_victim": romance_victim,
    "webcam_customer": webcam_customer,
    "sextortion_victim": sextortion_victim,
    "online_buyer": online_buyer,
    "gamer_tipper": gamer_tipper,
    "church_donor": church_donor,
    "online_dater": online_dater,
}
