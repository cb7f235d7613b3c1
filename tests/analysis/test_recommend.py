"""PID-guided model selection: interaction profiles, the calibrated ranking rule, bad inputs."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from interplay import MultimodalDataset, gaussian_pid_from_samples, make_gate, make_mixture
from interplay.analysis.recommend import (
    BALANCED,
    DEFAULT_AFFINITY,
    ENSEMBLE,
    FusionAffinity,
    InteractionProfile,
    calibrate_affinity,
    choose_estimator,
    fusion_facts,
    profile_interactions,
    recommend_fusion,
    shares_of,
)
from interplay.exceptions import InvalidInputError, SmallSampleWarning
from interplay.models import list_fusions

ADDITIVE = {"early", "late"}
#: Fusions with cross-modal products or attention: the ones that can represent XOR.
# gated too: its gates depend on both modalities, and the hard synthetic suite measures it
# within 1% of the best on every XOR-, product- and sum-mod-3 set
SYNERGY_CAPABLE = {"tensor", "low_rank_tensor", "multiplicative", "cross_attention",
                   "perceiver", "poe", "gated"}


def pure(atom: str) -> dict[str, float]:
    return {a: float(a == atom) for a in ("redundancy", "unique1", "unique2", "synergy")}


def vectors(labels: np.ndarray, dim: int, rng: np.random.Generator) -> np.ndarray:
    """A continuous modality: each label value gets a random direction, plus noise."""
    directions = rng.standard_normal((int(labels.max()) + 1, dim))
    return directions[labels] + 0.3 * rng.standard_normal((labels.size, dim))


# ----------------------------------------------------------------------------- profiles
def test_xor_profile_is_all_synergy():
    d = make_gate("xor", 4000, random_state=0)
    p = profile_interactions(d.x1, d.x2, d.y, progress=False)
    assert p.estimator == "plugin"
    assert p.dominant == "synergy"
    assert p.shares["synergy"] == pytest.approx(1.0, abs=0.01)
    assert sum(p.shares.values()) == pytest.approx(1.0, abs=1e-12)
    assert p.pid.synergy == pytest.approx(d.truth["synergy"], abs=0.01)


def test_mixture_shares_match_the_known_atoms():
    # R = 1, U1 = 1, U2 = 0, S = 1 bit exactly: shares 1/3, 1/3, 0, 1/3
    d = make_mixture(20000, redundant=2, unique1=2, unique2=1, synergistic=2, random_state=1)
    p = profile_interactions(d.x1, d.x2, d.y, progress=False)
    truth = shares_of(d.truth)
    for atom, share in truth.items():
        assert p.shares[atom] == pytest.approx(share, abs=0.02)


def test_continuous_modalities_use_the_cluster_estimator():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 2, 3000), rng.integers(0, 2, 3000)
    x1, x2 = vectors(a, 12, rng), vectors(b, 12, rng)
    p = profile_interactions(x1, x2, a ^ b, n_clusters=4, progress=False)
    assert p.estimator == "cluster"
    assert "cluster" in p.reason and "4 k-means clusters" in p.reason
    assert p.shares["synergy"] == pytest.approx(1.0, abs=0.02)
    assert p.pid.estimator == "cluster"


def test_dataset_input_equals_array_input_and_flattens_images():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 2, 2000)
    img = vectors(a, 16, rng).reshape(2000, 1, 4, 4)
    tab = vectors(a, 5, rng)
    ds = MultimodalDataset({"img": img, "tab": tab, "extra": tab[:, :2]}, targets=a)
    p = profile_interactions(ds, modalities=("img", "tab"), n_clusters=4, progress=False)
    q = profile_interactions(img.reshape(2000, -1), tab, a, n_clusters=4, progress=False)
    assert p.modalities == ("img", "tab") and p.target == "y"
    assert p.shares == q.shares
    assert p.dominant == "redundancy"


def test_dataset_rows_with_a_missing_modality_are_left_out():
    d = make_gate("rdn", 3000, random_state=2)
    observed = np.ones(3000, dtype=bool)
    observed[:1000] = False
    x2 = d.x2.astype(float)
    x2[:1000] = np.nan
    ds = MultimodalDataset({"a": d.x1, "b": x2}, targets=d.y, observed={"b": observed},
                           allow_nonfinite=True)
    p = profile_interactions(ds, progress=False)
    assert p.pid.n_samples == 2000
    assert p.shares["redundancy"] == pytest.approx(1.0, abs=0.01)


def test_continuous_target_uses_the_copula_estimator():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(5000)
    x1, x2 = y + rng.standard_normal(5000), np.exp(y + rng.standard_normal(5000))
    with warnings.catch_warnings():  # the Gaussian PID notes round-off in its union bounds
        warnings.simplefilter("ignore", SmallSampleWarning)
        p = profile_interactions(x1, x2, y, progress=False)
        g = profile_interactions(x1, np.log(x2), y, estimator="gaussian", progress=False)
        direct = gaussian_pid_from_samples(x1, np.log(x2), y)
    assert p.estimator == "copula" and "y is continuous" in p.reason
    assert g.pid.atoms == pytest.approx(direct.atoms)
    assert g.shares == pytest.approx(shares_of(direct))


def test_bootstrap_gives_ordered_intervals_around_the_shares():
    d = make_mixture(3000, redundant=2, unique1=1, unique2=1, synergistic=2, random_state=0)
    p = profile_interactions(d.x1, d.x2, d.y, n_bootstrap=30, random_state=1, progress=False)
    assert p.share_ci is not None
    for atom, (lo, hi) in p.share_ci.items():
        assert 0.0 <= lo <= hi <= 1.0
        assert lo - 0.02 <= p.shares[atom] <= hi + 0.02
    assert p.share_ci["redundancy"][0] > 0.3


def test_small_samples_warn_and_are_recorded():
    d = make_gate("copy", 100, alphabet=4, random_state=0)
    with pytest.warns(SmallSampleWarning):
        p = profile_interactions(d.x1, d.x2, d.y, progress=False)
    assert p.warnings and "samples per joint cell" in p.warnings[0]


def test_profile_json_round_trips():
    d = make_gate("and", 2000, random_state=0)
    p = profile_interactions(d.x1, d.x2, d.y, progress=False)
    data = json.loads(p.to_json())
    assert data["shares"] == pytest.approx(p.shares)
    assert data["dominant"] == p.dominant == "synergy"
    assert data["pid"]["method"] == "broja"


def test_choose_estimator_rules():
    ints = np.arange(300) % 4
    cont = np.linspace(0, 1, 300)
    assert choose_estimator(ints, ints, ints)[0] == "plugin"
    assert choose_estimator(np.array(["a", "b"] * 150), ints, ints)[0] == "plugin"
    assert choose_estimator(cont, ints, ints)[0] == "cluster"
    assert choose_estimator(ints, cont, cont)[0] == "copula"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"estimator": "knn"}, "estimator"),
        ({"n_clusters": 1}, "n_clusters"),
        ({"n_bootstrap": -1}, "n_bootstrap"),
        ({"confidence": 1.0}, "confidence"),
        ({"n_bootstrap": 1}, "n_bootstrap"),
    ],
)
def test_bad_profile_options(kwargs, match):
    d = make_gate("xor", 500, random_state=0)
    with pytest.raises(InvalidInputError, match=match):
        profile_interactions(d.x1, d.x2, d.y, progress=False, **kwargs)


def test_bad_profile_data():
    d = make_gate("xor", 500, random_state=0)
    with pytest.raises(InvalidInputError, match="same number"):
        profile_interactions(d.x1, d.x2[:-1], d.y)
    with pytest.raises(InvalidInputError, match="`x2` and `y` are required"):
        profile_interactions(d.x1)
    with pytest.raises(InvalidInputError, match="select from a MultimodalDataset"):
        profile_interactions(d.x1, d.x2, d.y, modalities=("a", "b"))
    with pytest.raises(InvalidInputError, match="at least two distinct"):
        profile_interactions(d.x1, d.x2, np.zeros(500, dtype=int), progress=False)
    ds = MultimodalDataset({"a": d.x1, "b": d.x2, "c": d.x1}, targets=d.y)
    with pytest.raises(InvalidInputError, match="the dataset has 3"):
        profile_interactions(ds)
    with pytest.raises(InvalidInputError, match="two different modality names"):
        profile_interactions(ds, modalities=("a", "a"))
    with pytest.raises(InvalidInputError, match="modalities"):
        profile_interactions(ds, modalities=("a", "zz"))
    with pytest.raises(InvalidInputError, match="not with `x2`"):
        profile_interactions(ds, d.x2)


# ------------------------------------------------------------------------ recommendation
def test_default_table_covers_every_registered_fusion_and_facts_the_balanced_trainings():
    facts = fusion_facts()
    assert set(DEFAULT_AFFINITY.table) == set(list_fusions()) | {ENSEMBLE}
    assert set(facts) == set(DEFAULT_AFFINITY.table) | set(BALANCED)
    plain = [rank for f, (_, rank) in facts.items() if f not in BALANCED]
    assert sorted(plain) == list(range(len(plain)))
    for name, (fusion, balancer, _) in BALANCED.items():  # same model, half a step less simple
        assert facts[name][1] == facts[fusion][1] + 0.5
        assert facts[name][0].startswith(facts[fusion][0]) and balancer in facts[name][0]
    assert all(note for note, _ in facts.values())
    for row in DEFAULT_AFFINITY.table.values():
        assert all(0.0 <= row[k] <= 1.0 for k in ("redundancy", "unique", "synergy"))


def test_pure_xor_ranks_a_synergy_capable_fusion_first():
    rec = recommend_fusion(pure("synergy"))
    assert rec.best in SYNERGY_CAPABLE
    # the additive fusions cannot represent XOR and rank below every synergy-capable one
    names = rec.names
    assert max(names.index(f) for f in SYNERGY_CAPABLE - {"perceiver", "poe"}) < \
        min(names.index(f) for f in ADDITIVE | {ENSEMBLE})


def test_additive_fusions_are_penalised_for_synergy_only():
    syn = {r.name: r.score for r in recommend_fusion(pure("synergy")).ranking}
    for atom in ("redundancy", "unique1", "unique2"):
        scores = {r.name: r.score for r in recommend_fusion(pure(atom)).ranking}
        for f in ADDITIVE:
            assert scores[f] > syn[f] + 0.2, (atom, f)
    assert max(syn[f] for f in ADDITIVE) < min(syn[f] for f in ("tensor", "low_rank_tensor",
                                                                 "multiplicative"))


def test_xor_samples_end_to_end():
    d = make_gate("xor", 3000, random_state=4)
    rec = recommend_fusion(profile_interactions(d.x1, d.x2, d.y, progress=False))
    assert rec.best in SYNERGY_CAPABLE
    assert rec.profile is not None and rec.profile.dominant == "synergy"


def test_score_is_the_share_weighted_affinity():
    aff = FusionAffinity({"a": {"redundancy": 1.0, "unique": 0.8, "synergy": 0.5},
                          "b": {"redundancy": 0.9, "unique": 0.9, "synergy": 0.9}})
    shares = {"redundancy": 0.2, "unique1": 0.1, "unique2": 0.1, "synergy": 0.6}
    rec = recommend_fusion(shares, affinity=aff, tolerance=0.0)
    scores = {r.name: r.score for r in rec.ranking}
    assert scores["a"] == pytest.approx(0.2 * 1.0 + 0.2 * 0.8 + 0.6 * 0.5)
    assert scores["b"] == pytest.approx(0.9)
    assert rec.names == ["b", "a"]
    assert rec.ranking[0].affinity == aff.table["b"]


def test_tolerance_prefers_the_simpler_of_nearly_equal_fusions():
    aff = FusionAffinity({"tensor": {"redundancy": 1.0, "unique": 1.0, "synergy": 1.0},
                          "early": {"redundancy": 0.997, "unique": 0.997, "synergy": 0.5},
                          "perceiver": {"redundancy": 0.9, "unique": 0.9, "synergy": 0.9}})
    assert recommend_fusion(pure("redundancy"), affinity=aff, tolerance=0.005).names == \
        ["early", "tensor", "perceiver"]
    assert recommend_fusion(pure("redundancy"), affinity=aff, tolerance=0).best == "tensor"
    assert recommend_fusion(pure("synergy"), affinity=aff, tolerance=0.005).names == \
        ["tensor", "perceiver", "early"]


def test_candidates_restrict_the_ranking():
    rec = recommend_fusion(pure("synergy"), ["late", "multiplicative"])
    assert rec.names == ["multiplicative", "late"]


def test_recommendation_json_schema():
    d = make_gate("xor", 2000, random_state=0)
    rec = recommend_fusion(profile_interactions(d.x1, d.x2, d.y, progress=False))
    data = json.loads(rec.to_json())
    assert set(data) == {"best", "best_fusion", "separated", "why", "ranking", "shares",
                         "affinity_source", "notes", "profile", "excluded"}
    assert data["best"] == rec.best in data["why"]
    assert [set(r) for r in data["ranking"]] == \
        [{"name", "score", "interval", "within_noise", "reason", "affinity", "parameters",
          "train_seconds"}] * len(rec.ranking)
    assert data["excluded"] == {}
    assert data["profile"]["modality_dims"] == [1, 1] and data["profile"]["n_classes"] == 2
    assert data["profile"]["estimator"] == "plugin"


def test_pid_result_is_accepted_as_a_profile():
    d = make_gate("rdn", 2000, random_state=0)
    p = profile_interactions(d.x1, d.x2, d.y, progress=False)
    assert recommend_fusion(p.pid).names == recommend_fusion(p).names


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((pure("synergy"), ["early", "early"]), {}, "twice"),
        ((pure("synergy"), []), {}, "non-empty"),
        ((pure("synergy"), "early"), {}, "non-empty"),
        ((pure("synergy"), ["mlp"]), {}, "does not cover"),
        ((pure("synergy"),), {"affinity": {"early": {}}}, "FusionAffinity"),
        ((pure("synergy"),), {"tolerance": -0.1}, "tolerance"),
        (({"redundancy": 1.0},), {}, "keys"),
        (({a: 0.0 for a in ("redundancy", "unique1", "unique2", "synergy")},), {},
         "no information"),
        (([0.1, 0.2],), {}, "InteractionProfile"),
    ],
)
def test_bad_recommend_inputs(args, kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        recommend_fusion(*args, **kwargs)


# --------------------------------------------------------------------------- calibration
def test_calibration_is_the_share_weighted_relative_accuracy():
    profiles = [pure("synergy"), pure("redundancy"),
                {"redundancy": 0.5, "unique1": 0.0, "unique2": 0.0, "synergy": 0.5}]
    accs = [{"early": 0.5, "tensor": 1.0}, {"early": 0.9, "tensor": 0.9},
            {"early": 0.6, "tensor": 0.8}]
    aff = calibrate_affinity(profiles, accs, source="toy")
    # early relative accuracies: 0.5, 1.0, 0.75
    assert aff.table["early"]["synergy"] == pytest.approx((0.5 + 0.5 * 0.75) / 1.5)
    assert aff.table["early"]["redundancy"] == pytest.approx((1.0 + 0.5 * 0.75) / 1.5)
    # no dataset holds unique information: the fusion's mean relative accuracy stands in
    assert aff.table["early"]["unique"] == pytest.approx((0.5 + 1.0 + 0.75) / 3)
    assert aff.table["tensor"]["synergy"] == pytest.approx(1.0)
    assert aff.source == "toy" and aff.n_datasets == 3
    assert recommend_fusion(pure("synergy"), affinity=aff).best == "tensor"


def test_calibration_accepts_profiles():
    d = make_gate("xor", 2000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        p = profile_interactions(d.x1, d.x2, d.y, progress=False)
    assert isinstance(p, InteractionProfile)
    aff = calibrate_affinity([p], [{"late": 0.5, "tensor": 1.0}])
    assert aff.table["late"]["synergy"] == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize(
    ("profiles", "accs", "match"),
    [
        ([], [], "same length"),
        ([pure("synergy")], [], "same length"),
        ([pure("synergy")] * 2, [{"a": 1.0}, {"b": 1.0}], "must hold the fusions"),
        ([pure("synergy")], [{"a": 0.0}], "at least one accuracy > 0"),
        ([pure("synergy")], [{"a": -0.5, "b": 1.0}], ">= 0"),
        ([pure("synergy")], [{}], "non-empty dict"),
        ([[1, 2]], [{"a": 1.0}], "InteractionProfile or a dict"),
        ("ab", [{"a": 1.0}], "sequences"),
    ],
)
def test_bad_calibration_inputs(profiles, accs, match):
    with pytest.raises(InvalidInputError, match=match):
        calibrate_affinity(profiles, accs)
