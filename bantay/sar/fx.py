"""Exchange rates for the forms that report in a currency of their own (goAML's local currency, AUSTRAC's
AUD, FINTRAC's CAD).

The draft job records in each draft (`fx_rates`) the ledger's rate for every currency and booking day the
case needs: the rate of that day, or of the latest earlier day the ledger has. A renderer converts with
`Rates.convert`, so every converted amount can be traced to a rate the draft holds.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from bantay.errors import BantayError

RATE_PLACES = Decimal("0.000001")
CENTS = Decimal("0.01")


class FxRateError(BantayError):
    """A form needs a conversion for which the ledger holds no rate."""


@dataclass(frozen=True)
class Rates:
    """USD per unit by (booking day, currency), as recorded in a draft."""

    case_id: str
    usd_per_unit: Mapping[tuple[str, str], float]

    @classmethod
    def of(cls, draft: Mapping[str, Any]) -> Rates:
        table = {(r["date"], r["currency"]): float(r["usd_per_unit"]) for r in draft.get("fx_rates") or []}
        return cls(str(draft.get("case_id")), table)

    def rate(self, currency: str, target: str, day: str) -> Decimal:
        """Units of `target` per unit of `currency` on `day` (YYYY-MM-DD), to six places."""
        if currency == target:
            return Decimal(1)
        return (self._usd(currency, day) / self._usd(target, day)).quantize(RATE_PLACES, ROUND_HALF_UP)

    def convert(self, amount: Any, currency: str, target: str, day: str) -> Decimal:
        """`amount` of `currency` in `target` on `day`, rounded half up to cents."""
        value = Decimal(str(amount))
        if currency == target:
            return value.quantize(CENTS, ROUND_HALF_UP)
        exact = value * self._usd(currency, day) / self._usd(target, day)
        return exact.quantize(CENTS, ROUND_HALF_UP)

    def total_out(self, draft: Mapping[str, Any], target: str) -> Decimal:
        """The draft's reported outgoing payments in `target`, each converted at the rate of its day."""
        return sum(
            (
                self.convert(t["amount"], t["currency"], target, t["booked_at"])
                for t in draft["transactions"]
                if t["direction"] == "out"
            ),
            Decimal("0.00"),
        )

    def _usd(self, currency: str, day: str) -> Decimal:
        if currency == "USD":
            return Decimal(1)
        found = self.usd_per_unit.get((day[:10], currency))
        if found is None or found <= 0:
            raise FxRateError(
                f"case {self.case_id}: no {currency} rate on or before {day[:10]} in fx_rates; "
                f"add it to the ledger's fx_rates to convert this case's amounts"
            )
        return Decimal(str(found))


@dataclass(frozen=True)
class RateIndex:
    """The ledger's rates by currency, sorted by date, for finding the latest rate on or before a day."""

    by_currency: Mapping[str, tuple[list[date], list[float]]]

    @classmethod
    def of(cls, table: pd.DataFrame) -> RateIndex:
        """From a frame of rate_date, currency, usd_per_unit (one row per currency and day)."""
        by_currency: dict[str, tuple[list[date], list[float]]] = {}
        for currency, group in table.groupby("currency", sort=False):
            pairs = sorted(zip((_as_date(d) for d in group["rate_date"]), group["usd_per_unit"], strict=True))
            by_currency[str(currency)] = ([d for d, _ in pairs], [float(v) for _, v in pairs])
        return cls(by_currency)

    def on_or_before(self, currency: str, day: date) -> tuple[date, float] | None:
        dates, values = self.by_currency.get(currency, ([], []))
        i = bisect.bisect_right(dates, day)
        return (dates[i - 1], values[i - 1]) if i else None


def rates_for(
    transactions: Sequence[Mapping[str, Any]], table: RateIndex | pd.DataFrame, targets: Iterable[str]
) -> list[dict[str, Any]]:
    """The rates a draft needs: for each booking day of its transactions and each currency among theirs and
    `targets`, the ledger's rate of that day or the latest earlier day. Pairs without any rate up to that
    day are left out (the form that needs one says so)."""
    index = table if isinstance(table, RateIndex) else RateIndex.of(table)
    days = sorted({str(t["booked_at"])[:10] for t in transactions})
    currencies = sorted({str(t["currency"]) for t in transactions} | set(targets)) if days else []
    rows = []
    for currency in (c for c in currencies if c != "USD"):
        for day in days:
            found = index.on_or_before(currency, date.fromisoformat(day))
            if found is not None:
                rows.append(
                    {
                        "date": day,
                        "currency": currency,
                        "usd_per_unit": found[1],
                        "rate_date": found[0].isoformat(),
                    }
                )
    return rows


def _as_date(value: Any) -> date:
    if isinstance(value, pd.Timestamp):
        day: date = value.date()
        return day
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
