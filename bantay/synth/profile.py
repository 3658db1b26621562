"""World profiles: the knobs of one synthetic bank (label regime, look-alike mix, payers' activity, amounts,
corridors, currencies, shared payees), so a model can be trained on one world and tested on others.

`default()` is `data/worlds/default.yaml`, the values the generator has always used (a ledger generated with
it is byte-identical to one generated without a world). `load(path)` reads a profile file whose keys
override the default's. `draw(world_seed)` draws every knob from `data/worlds/ranges.yaml` with a
generator seeded by the world seed alone. Every profile is checked on the way in: known kinds and
countries, shares in [0, 1], corridor weights summing to 1, and no corridor used only by payers.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bantay.errors import ConfigError
from bantay.synth import reference as ref

KIND_NAMES = (
    "retail",
    "ocse_payer",
    "ofw",
    "diaspora",
    "mixed_family",
    "child_sponsor",
    "freelancer_payer",
    "small_business_va",
    "romance_victim",
    "webcam_customer",
    "sextortion_victim",
    "online_buyer",
    "gamer_tipper",
    "church_donor",
    "online_dater",
)
CORRIDOR_KINDS = (
    "ocse_payer",
    "online_dater",
    "online_buyer",
    "mixed_family",
    "romance_victim",
    "sextortion_victim",
)
OTHER_CORRIDORS = ("TH", "CO", "DO", "MX", "GH", "RO")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DecisionDelays(_Strict):
    confirmed: tuple[float, float]
    cleared: tuple[float, float]

    @field_validator("confirmed", "cleared")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= value[0] <= value[1]:
            raise ValueError(f"expected 0 <= low <= high days, got {list(value)}")
        return value


class PayerActivity(_Strict):
    pareto_shape: float
    pareto_scale: float

    @property
    def share_at_most_4(self) -> float:
        """Share of payers drawn with at most 4 payments (before the window and onboarding cut any)."""
        return float(1 - (1 + 4 / self.pareto_scale) ** -self.pareto_shape)


class PayerAmounts(_Strict):
    median_usd: float
    sigma: float


class PayerPeople(_Strict):
    """Who the payers are by KYC (typology O10: "almost all male", "a few are young or female")."""

    male_share: float = Field(ge=0, le=1)
    young_share: float = Field(ge=0, le=1)


class Profile(_Strict):
    """One world's knobs; field meanings are documented in `data/worlds/default.yaml`."""

    kinds: dict[str, float]
    investigated: dict[str, float]
    label_noise: float
    decision_delay_days: DecisionDelays
    payer_activity: PayerActivity
    payer_amounts: PayerAmounts
    payer_people: PayerPeople
    amount_scale: float
    shared_facilitator_share: float
    popular_payee_share: dict[str, float]
    residences: dict[str, float]
    corridors: dict[str, dict[str, float]]
    diaspora_nationalities: tuple[str, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        unknown = (set(self.kinds) | set(self.investigated)) - set(KIND_NAMES)
        if unknown:
            raise ValueError(f"unknown kinds {sorted(unknown)}")
        if set(self.kinds) != set(KIND_NAMES) - {"retail"}:
            raise ValueError(f"kinds must list every kind but retail: {sorted(set(KIND_NAMES) - {'retail'})}")
        shares = [
            *self.kinds.values(),
            *self.investigated.values(),
            *self.popular_payee_share.values(),
            self.label_noise,
            self.shared_facilitator_share,
        ]
        if any(not 0 <= s <= 1 for s in shares) or sum(self.kinds.values()) >= 1:
            raise ValueError("shares must lie in [0, 1] and the kinds but retail sum to less than 1")
        if set(self.popular_payee_share) != {"online_buyer", "gamer_tipper"}:
            raise ValueError("popular_payee_share needs online_buyer and gamer_tipper")
        if (
            min(
                self.payer_activity.pareto_shape,
                self.payer_activity.pareto_scale,
                self.amount_scale,
                self.payer_amounts.median_usd,
                self.payer_amounts.sigma,
            )
            <= 0
        ):
            raise ValueError("payer_activity, payer_amounts and amount_scale must be positive")
        if list(self.residences) != [r.code for r in ref.RESIDENCES]:
            raise ValueError(f"residences must list {[r.code for r in ref.RESIDENCES]} in that order")
        if set(self.corridors) != set(CORRIDOR_KINDS):
            raise ValueError(f"corridors must list {list(CORRIDOR_KINDS)}")
        if list(self.corridors["ocse_payer"]) != list(ref.DESTINATIONS):
            raise ValueError(f"corridors.ocse_payer must list {list(ref.DESTINATIONS)} in that order")
        for kind, weights in self.corridors.items():
            if set(weights) - set(ref.DESTINATIONS) or min(weights.values()) < 0:
                raise ValueError(f"corridors.{kind}: countries must be among {list(ref.DESTINATIONS)}")
            if abs(sum(weights.values()) - 1) > 1e-6:
                raise ValueError(f"corridors.{kind}: weights must sum to 1")
        if set(self.diaspora_nationalities) - set(OTHER_CORRIDORS):
            raise ValueError(f"diaspora_nationalities must be among {list(OTHER_CORRIDORS)}")
        # No value only on offenders: every corridor payers use is used by some innocent kind too.
        innocent = {c for k, w in self.corridors.items() if k != "ocse_payer" for c, x in w.items() if x > 0}
        innocent |= set(self.diaspora_nationalities)
        only_payers = {c for c, x in self.corridors["ocse_payer"].items() if x > 0} - innocent
        if only_payers:
            raise ValueError(
                f"corridors {sorted(only_payers)} are used by payers only; give an innocent kind"
                " some weight there"
            )
        return self

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, width=110)


def _read(path: Path | str) -> dict[str, Any]:
    from importlib import resources

    if isinstance(path, str):
        text = (resources.files("bantay.synth") / "data" / "worlds" / path).read_text(encoding="utf-8")
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--world {path}: cannot read the profile ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--world {path}: not valid YAML ({type(exc).__name__})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"--world {path}: expected a mapping of knobs at the top level")
    return data


def _build(data: dict[str, Any], source: str) -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "profile"
        raise ConfigError(
            f"--world {source}: {where}: {first['msg']} ({exc.error_count()} problem(s))"
        ) from exc


@functools.cache
def default() -> Profile:
    """The default world (`data/worlds/default.yaml`)."""
    return _build(_read("default.yaml"), "default.yaml")


def load(path: Path) -> Profile:
    """A profile file; keys it leaves out come from the default (mappings are merged one level deep)."""
    base, given = _read("default.yaml"), _read(path)
    unknown = set(given) - set(base)
    if unknown:
        raise ConfigError(f"--world {path}: unknown knobs {sorted(unknown)}; see default.yaml")
    merged = {
        k: {**base[k], **v} if isinstance(base[k], dict) and isinstance(v, dict) and k != "corridors" else v
        for k, v in given.items()
    }
    if "corridors" in given:  # a corridor table replaces the default one whole (weights must sum to 1)
        merged["corridors"] = {**base["corridors"], **given["corridors"]}
    return _build({**base, **merged}, str(path))


def _uniform(rng: np.random.Generator, spec: Any) -> float:
    if isinstance(spec, dict):
        lo, hi = spec["range"]
        if spec.get("log"):
            return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        return float(rng.uniform(lo, hi))
    lo, hi = spec
    return float(rng.uniform(lo, hi))


def draw(world_seed: int) -> Profile:
    """A world drawn from `data/worlds/ranges.yaml`, the same for the same `world_seed`."""
    spec = _read("ranges.yaml")
    base = _read("default.yaml")
    rng = np.random.default_rng([world_seed, 0x3011D])

    def u(name: str) -> float:  # one draw per knob, in a fixed order
        return _uniform(rng, spec[name])

    kinds = dict(base["kinds"])
    ocse_rate = u("ocse_rate")
    factor = spec["lookalike_factor"]
    for kind in kinds:
        kinds[kind] = round(kinds[kind] * _uniform(rng, factor), 5)
    kinds["ocse_payer"] = round(ocse_rate, 5)
    kinds["online_buyer"] = round(u("online_buyer"), 5)
    kinds["online_dater"] = round(u("online_dater"), 5)

    confirmed = u("confirmed_per_20k")
    investigated = dict(base["investigated"])
    factor = u("investigated_factor")
    for kind in investigated:
        investigated[kind] = round(min(0.9, investigated[kind] * factor), 4)
    investigated["ocse_payer"] = round(min(0.95, confirmed / (20_000 * ocse_rate * 0.7)), 4)

    label_noise = round(u("label_noise"), 4)
    c_low, c_width = u("confirmed_delay_low"), u("confirmed_delay_width")
    k_low, k_width = u("cleared_delay_low"), u("cleared_delay_width")

    share4, shape = u("share_at_most_4"), u("pareto_shape")
    scale = 4 / ((1 - share4) ** (-1 / shape) - 1)  # solves 1 - (1 + 4 / scale) ** -shape = share4

    payer_median, payer_sigma, amount_scale = u("payer_median_usd"), u("payer_sigma"), u("amount_scale")
    shared = u("shared_facilitator_share")
    popular = u("popular_payee_share")

    ph = u("payer_ph_share")
    rest = rng.dirichlet(np.ones(len(OTHER_CORRIDORS))) * (1 - ph)
    payer_corridors = {"PH": ph, **dict(zip(OTHER_CORRIDORS, rest.tolist(), strict=True))}
    payer_corridors = _rounded(payer_corridors)
    concentration = float(spec["residence_concentration"])
    weights = rng.dirichlet(np.array(list(base["residences"].values())) * concentration * 10)
    residences = _rounded(dict(zip(base["residences"], weights.tolist(), strict=True)))
    # Diaspora nationalities weighted like the payers' non-PH corridors (20 slots, each corridor at least 1).
    slots = np.maximum(1, np.round(rest / rest.sum() * 20)).astype(int)
    diaspora = [c for c, k in zip(OTHER_CORRIDORS, slots.tolist(), strict=True) for _ in range(k)]

    # Drawn last, so every knob above keeps the value it had before these two existed.
    male_share, young_share = u("payer_male_share"), u("payer_young_share")

    corridors = dict(base["corridors"])
    corridors["ocse_payer"] = payer_corridors
    corridors["online_dater"] = dict(payer_corridors)  # daters go where payers pay
    data = {
        **base,
        "kinds": kinds,
        "investigated": investigated,
        "label_noise": label_noise,
        "decision_delay_days": {
            "confirmed": [round(c_low, 1), round(c_low + c_width, 1)],
            "cleared": [round(k_low, 1), round(k_low + k_width, 1)],
        },
        "payer_activity": {"pareto_shape": round(shape, 4), "pareto_scale": round(scale, 4)},
        "payer_amounts": {"median_usd": round(payer_median, 2), "sigma": round(payer_sigma, 4)},
        "payer_people": {"male_share": round(male_share, 4), "young_share": round(young_share, 4)},
        "amount_scale": round(amount_scale, 4),
        "shared_facilitator_share": round(shared, 4),
        "popular_payee_share": {
            "online_buyer": round(popular, 4),
            "gamer_tipper": round(min(0.9, popular + 0.05), 4),
        },
        "residences": residences,
        "corridors": corridors,
        "diaspora_nationalities": diaspora,
    }
    return _build(data, f"world seed {world_seed}")


def _rounded(weights: dict[str, float]) -> dict[str, float]:
    """Weights to 4 decimals that still sum to 1 (the largest absorbs the rounding)."""
    out = {k: round(v, 4) for k, v in weights.items()}
    top = max(out, key=out.__getitem__)
    out[top] = round(1 - sum(v for k, v in out.items() if k != top), 4)
    return out
