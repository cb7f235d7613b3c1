"""The recommender does not over-claim: ties within the noise go to the simplest candidate."""

from __future__ import annotations

import json
import math

import pytest

from interplay.analysis.recommend import (
    DEFAULT_AFFINITY,
    ENSEMBLE,
    FusionAffinity,
    InteractionProfile,
    calibrate_affinity,
    fusion_facts,
    recommend_fusion,
    synergy_bias,
)
from interplay.info.pid import PIDResult

ROW = {"redundancy": 0.99, "unique": 0.99, "synergy": 0.99}


def profile(shares: dict[str, float], ci: dict[str, tuple[float, float]] | None
            ) -> InteractionProfile:
    return InteractionProfile(shares=shares, pid=None, estimator="test", reason="test",
                              share_ci=ci)


def tie_affinity(sd: float) -> FusionAffinity:
    """tensor predicted 0.5 points above late and the ensemble, everything with spread sd."""
    table = {"tensor": {k: 0.995 for k in ROW}, "late": dict(ROW), ENSEMBLE: dict(ROW)}
    return FusionAffinity(table, source="tie", spread={f: {k: sd for k in ROW} for f in table})


RDN = {"redundancy": 0.6, "unique1": 0.2, "unique2": 0.2, "synergy": 0.0}


def test_a_tie_within_the_noise_is_said_and_goes_to_the_simplest():
    rec = recommend_fusion(RDN, affinity=tie_affinity(0.02))
    assert rec.ranking[0].name == "tensor"          # highest point prediction...
    assert not rec.separated                        # ...but not separated from the others
    assert rec.best == ENSEMBLE                     # so the simplest within the noise wins
    assert all(r.within_noise for r in rec.ranking)
    assert "within the noise" in rec.why and rec.notes
    assert rec.best_fusion == "late"                # the simplest fusion module to train


def test_the_same_difference_without_noise_is_separated():
    rec = recommend_fusion(RDN, affinity=tie_affinity(0.0))
    assert rec.separated and rec.best == "tensor"
    assert [r.within_noise for r in rec.ranking] == [True, False, False]
    assert "above the interval of every other" in rec.why


def test_profile_intervals_alone_can_make_a_tie():
    aff = FusionAffinity({"tensor": {"redundancy": 0.9, "unique": 0.9, "synergy": 1.0},
                          "late": {"redundancy": 1.0, "unique": 1.0, "synergy": 0.5}},
                         spread={})
    shares = {"redundancy": 0.0, "unique1": 0.0, "unique2": 0.1, "synergy": 0.9}
    sure = recommend_fusion(profile(shares, None), affinity=aff)
    assert sure.separated and sure.best == "tensor"
    # the synergy share could be anywhere from 0.1 to 0.95: late may be as good...
    unsure = recommend_fusion(profile(shares, {"redundancy": (0.0, 0.9), "unique1": (0.0, 0.1),
                                               "unique2": (0.05, 0.3), "synergy": (0.1, 0.95)}),
                              affinity=aff)
    assert not unsure.separated and unsure.ranking[1].within_noise
    lo, hi = unsure.ranking[0].interval
    assert lo == pytest.approx(0.9 * 0.9 + 0.1 * 1.0)
    assert unsure.ranking[1].interval[1] == pytest.approx(0.9 * 1.0 + 0.1 * 0.5)
    assert lo < sure.ranking[0].score <= hi
    # ...but its point prediction (0.55) is far outside tensor's interval: tensor stays
    assert unsure.best == "tensor"


def test_a_risky_simple_candidate_is_not_picked():
    # poe is as good on average, but its spread says it sometimes fails badly
    table = {"tensor": {k: 0.998 for k in ROW}, "poe": {k: 0.996 for k in ROW}}
    aff = FusionAffinity(table, spread={"tensor": {k: 0.003 for k in ROW},
                                        "poe": {k: 0.06 for k in ROW}})
    rec = recommend_fusion(RDN, affinity=aff)
    assert not rec.separated and rec.best == "tensor"


@pytest.mark.parametrize(("poe_sd", "picked"), [(0.005, "poe"), (0.008, "tensor")])
def test_the_downside_limit_is_two_top_half_widths_below_the_top_lower_end(poe_sd, picked):
    # tensor: 0.998 [0.995, 1.0], half-width 0.003, so the limit is 0.995 - 2 * 0.003 = 0.989;
    # poe (simpler) at 0.996 reaches down to 0.991 (eligible) or 0.988 (riskier)
    table = {"tensor": {k: 0.998 for k in ROW}, "poe": {k: 0.996 for k in ROW}}
    aff = FusionAffinity(table, spread={"tensor": {k: 0.003 for k in ROW},
                                        "poe": {k: poe_sd for k in ROW}})
    rec = recommend_fusion(RDN, affinity=aff)
    assert rec.ranking[0].name == "tensor" and not rec.separated
    assert rec.best == picked


def test_intervals_contain_the_score_and_the_json_carries_the_evidence():
    rec = recommend_fusion(RDN, affinity=tie_affinity(0.02))
    for r in rec.ranking:
        assert r.interval[0] <= r.score <= r.interval[1]
    data = json.loads(rec.to_json())
    assert {"best", "best_fusion", "separated", "why", "ranking"} <= set(data)
    assert set(data["ranking"][0]) == {"name", "score", "interval", "within_noise", "reason",
                                       "affinity", "parameters", "train_seconds"}


def test_calibration_spread_is_the_weighted_sd():
    rdn = {"redundancy": 1.0, "unique1": 0.0, "unique2": 0.0, "synergy": 0.0}
    aff = calibrate_affinity([rdn, rdn], [{"a": 0.8, "b": 1.0}, {"a": 1.0, "b": 0.9}])
    assert aff.table["a"]["redundancy"] == pytest.approx(0.9)
    assert aff.spread["a"]["redundancy"] == pytest.approx(0.1)


def test_the_ensemble_is_a_candidate_and_the_simplest():
    assert ENSEMBLE in DEFAULT_AFFINITY.table
    assert fusion_facts()[ENSEMBLE][1] == min(rank for _, rank in fusion_facts().values())


def plugin_pid(synergy: float, n: int) -> PIDResult:
    return PIDResult(redundancy=0.5, unique1=0.3, unique2=0.3, synergy=synergy,
                     mi_joint=1.1 + synergy, mi_x1=0.8, mi_x2=0.8, method="broja",
                     estimator="cluster", n_samples=n,
                     settings={"alphabet_sizes": {"x1": 5, "x2": 5, "y": 10}})


def test_synergy_bias_is_miller_madow_in_bits():
    expected = (5 * 5 - 1) * (10 - 1) / (2 * 1000 * math.log(2))
    assert synergy_bias(plugin_pid(0.2, 1000)) == pytest.approx(expected)
    assert synergy_bias(PIDResult(0.5, 0.1, 0.1, 0.3, 1.0, 0.6, 0.6, "broja")) == 0.0


def test_synergy_within_the_bias_does_not_count():
    bias = synergy_bias(plugin_pid(0.0, 1000))          # about 0.156 bits
    rec = recommend_fusion(plugin_pid(0.9 * bias, 1000))
    assert rec.shares["synergy"] == 0.0 and any("bias" in n for n in rec.notes)
    raw = recommend_fusion(plugin_pid(0.9 * bias, 1000), correct_bias=False)
    assert raw.shares["synergy"] > 0.08
