"""The ground table: the features it states are catalogue columns; profile, travel, baseline never are."""

from __future__ import annotations

from bantay.features.catalogue import FEATURES
from bantay.sar import grounds


def test_grounds_state_only_activity_features_of_the_catalogue():
    typology = {spec.name: spec.typology_id for spec in FEATURES}
    stated = {feature for ground in grounds.GROUNDS for feature in ground.features}
    assert stated <= set(typology)
    # A characteristic of the person (O10), travel (O11) or the baseline activity is never a ground.
    never = {name for name, kind in typology.items() if kind in {"O10", "O11", "BASE"}}
    assert never and not stated & never
    assert grounds.ground_of("is_male") is None and grounds.ground_of("n_airline_90d") is None
    assert grounds.ground_of("share_p2p_night_90d").code == "NIGHT_PAYMENTS"
    assert len({g.code for g in grounds.GROUNDS}) == len(grounds.GROUNDS)
