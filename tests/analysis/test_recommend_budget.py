"""The recommender's cost budget, and one set of estimation defaults for recommend and quantify."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from interplay import quantify
from interplay.analysis.fusion_cost import (
    MEASURED_TRAIN_ROWS,
    MEASURED_TRAIN_SECONDS,
    candidate_costs,
)
from interplay.analysis.recommend import (
    DEFAULT_AFFINITY,
    ENSEMBLE,
    FusionAffinity,
    profile_interactions,
    recommend_fusion,
)
from interplay.cli.main import main
from interplay.estimators.registry import CLUSTER_COMPONENTS, cluster_defaults
from interplay.exceptions import InvalidInputError, SmallSampleWarning
from interplay.models import UnimodalModel, create_encoder, create_fusion, create_head

SHARES = {"redundancy": 0.3, "unique1": 0.3, "unique2": 0.3, "synergy": 0.1}
SIZES = {"modality_dims": (76, 64), "n_classes": 10}


def _count(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


def test_parameter_counts_are_those_of_the_built_models():
    costs = candidate_costs(["tensor", ENSEMBLE], (76, 64), 10)
    enc = [create_encoder("vector", d, 32) for d in (76, 64)]
    fusion = create_fusion("tensor", {"x1": 32, "x2": 32}, 64)
    assert costs["tensor"].parameters == _count(*enc, fusion,
                                                create_head("classification", 64, 10))
    heads = [create_head("classification", 32, 10) for _ in range(2)]
    assert costs[ENSEMBLE].parameters == _count(
        *(UnimodalModel(f"m{i}", e, h) for i, (e, h) in enumerate(zip(enc, heads, strict=True))))
    wider = candidate_costs(["tensor"], (176, 64), 10)["tensor"].parameters
    assert wider > costs["tensor"].parameters       # the modality sizes count


def test_a_balanced_training_counts_its_fusions_parameters():
    costs = candidate_costs(["late", "late + mdrop", "gated", "gated + mdrop"], (76, 64), 10)
    assert costs["late + mdrop"].parameters == costs["late"].parameters
    assert costs["gated + mdrop"].parameters == costs["gated"].parameters
    with pytest.raises(InvalidInputError, match="balanced training"):
        candidate_costs(["late + dropout"], (76, 64), 10)


def test_max_params_leaves_out_exactly_the_candidates_over_it_and_says_so():
    counts = {f: c.parameters for f, c in candidate_costs(sorted(DEFAULT_AFFINITY.table),
                                                          (76, 64), 10).items()}
    limit = sorted(counts.values())[len(counts) // 2]
    rec = recommend_fusion(SHARES, max_params=limit, **SIZES)
    over = {f for f, n in counts.items() if n > limit}
    assert over and set(rec.excluded) == over
    assert {r.name for r in rec.ranking} == set(counts) - over
    assert rec.best not in over
    assert all(r.parameters == counts[r.name] for r in rec.ranking)
    assert any("left out by the cost budget" in n for n in rec.notes)
    assert json.loads(rec.to_json())["excluded"] == rec.excluded


def test_max_train_seconds_uses_the_measured_times_scaled_to_the_rows():
    rec = recommend_fusion(SHARES, max_train_seconds=10.0, n_train=2 * MEASURED_TRAIN_ROWS,
                           **SIZES)
    slow = {f for f, s in MEASURED_TRAIN_SECONDS.items()
            if 2 * s > 10.0 and f in DEFAULT_AFFINITY.table}
    assert set(rec.excluded) == slow
    for r in rec.ranking:
        assert r.train_seconds == pytest.approx(2 * MEASURED_TRAIN_SECONDS[r.name], abs=0.05)


def test_a_candidate_without_a_measured_time_is_kept_and_said_unavailable():
    row = {"redundancy": 0.99, "unique": 0.99, "synergy": 0.99}
    aff = FusionAffinity({"late": row, "my_fusion": row}, source="test")
    rec = recommend_fusion(SHARES, affinity=aff, max_train_seconds=1000.0)
    assert rec.excluded == {}
    assert any("unavailable for my_fusion (kept)" in n for n in rec.notes)


def test_a_budget_that_leaves_nothing_and_max_params_without_sizes_are_refused():
    with pytest.raises(InvalidInputError, match="leaves no candidate.*cheapest is ensemble"):
        recommend_fusion(SHARES, max_params=10, **SIZES)
    with pytest.raises(InvalidInputError, match="`max_params` needs .* modality sizes"):
        recommend_fusion(SHARES, max_params=10_000)
    with pytest.raises(InvalidInputError, match="`max_params`"):
        recommend_fusion(SHARES, max_params=0, **SIZES)


def test_recommend_and_quantify_run_the_cluster_estimator_with_the_same_settings():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 1500)
    x1 = np.eye(4)[y] @ rng.standard_normal((4, 30)) + rng.standard_normal((1500, 30))
    x2 = rng.standard_normal((1500, 20))
    profile = profile_interactions(x1, x2, y, progress=False)
    direct = quantify(x1, x2, y, progress=False)
    expected = cluster_defaults(1500, 4)
    assert expected == {"n_clusters": 8, "n_components": CLUSTER_COMPONENTS}
    for key, value in expected.items():
        assert profile.pid.settings[key] == direct.settings[key] == value
    assert profile.pid.atoms == pytest.approx(direct.atoms)


def test_the_default_clusters_keep_five_samples_per_joint_cell():
    for n, classes in ((2000, 10), (1300, 10), (1167, 2), (90, 3), (10**6, 10)):
        k = cluster_defaults(n, classes)["n_clusters"]
        assert 2 <= k <= 10
        if k > 2:
            assert n >= 5 * k * k * classes
        if k < 10:
            assert n < 5 * (k + 1) ** 2 * classes     # the most that do


@pytest.mark.slow
def test_bundled_real_pairs_raise_no_small_sample_warning_at_the_defaults(tmp_path):
    for name, x1, x2, y in (("mfeat", "fou", "kar", "digit"),
                            ("av-digits", "image", "audio", "digit")):
        out = tmp_path / f"{name}.json"
        with warnings.catch_warnings():
            warnings.simplefilter("error", SmallSampleWarning)
            assert main(["recommend", name, "--x1", x1, "--x2", x2, "--y", y, "--bootstrap",
                         "0", "--no-progress", "--json", str(out)]) == 0
        data = json.loads(out.read_text())
        assert data["profile"]["warnings"] == []
        # the README example's answer must be one the measured table supports: the unimodal
        # ensemble is the best model on av-digits and within 0.1% of the best (late fusion with
        # modality dropout) on fou+kar (benchmarks/results/model_selection_real.md)
        assert data["best"] == ENSEMBLE
        assert data["provenance"]["settings"]["clusters"] == cluster_defaults(
            data["profile"]["pid"]["n_samples"], 10)["n_clusters"]


def test_cli_budget_flags_reach_the_recommendation(tmp_path, capsys):
    out = tmp_path / "rec.json"
    assert main(["recommend", "--example", "gates", "--max-params", "10000",
                 "--max-train-seconds", "60", "--no-progress", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    # XOR: each modality alone is at chance, so the unimodal gate leaves the ensemble out too
    assert data["excluded"].pop(ENSEMBLE).startswith("the better modality alone reaches")
    assert data["unimodal_accuracy"]["source"].startswith("exact Bayes") or \
        data["unimodal_accuracy"]["x1"] < 0.6
    assert data["excluded"] and all("max_params 10,000" in why
                                    for why in data["excluded"].values())
    assert all(r["parameters"] <= 10000 for r in data["ranking"])
    assert data["provenance"]["settings"]["max_params"] == 10000
    assert "left out by the cost budget" in " ".join(capsys.readouterr().out.split())
    assert main(["recommend", "--example", "gates", "--max-params", "10",
                 "--no-progress"]) == 2


def test_the_unimodal_gate_leaves_the_ensemble_out_only_for_weak_modalities():
    ens_first = FusionAffinity({ENSEMBLE: {"redundancy": 1.0, "unique": 1.0, "synergy": 1.0},
                                "late": {"redundancy": 0.9, "unique": 0.9, "synergy": 0.9}})
    strong = recommend_fusion(SHARES, affinity=ens_first, unimodal_accuracy=(0.55, 0.80),
                              n_classes=10)
    assert strong.best == ENSEMBLE and strong.excluded == {}
    weak = recommend_fusion(SHARES, affinity=ens_first, unimodal_accuracy=(0.55, 0.54),
                            n_classes=10)                 # skill 0.5 and 0.49
    assert weak.best == ENSEMBLE                          # exactly halfway is enough
    weaker = recommend_fusion(SHARES, affinity=ens_first, unimodal_accuracy=(0.30, 0.54),
                              n_classes=10, min_skill=0.6)
    assert weaker.best == "late" and set(weaker.excluded) == {ENSEMBLE}
    assert any("ensemble is left out" in n for n in weaker.notes)
    with pytest.raises(InvalidInputError, match="needs the number of classes"):
        recommend_fusion(SHARES, affinity=ens_first, unimodal_accuracy=(0.3, 0.3))
    with pytest.raises(InvalidInputError, match="`unimodal_accuracy` must be two"):
        recommend_fusion(SHARES, affinity=ens_first, unimodal_accuracy=(0.3,), n_classes=2)


def test_probe_accuracy_sees_which_modality_predicts_the_label():
    from interplay.analysis.unimodal_probe import probe_accuracy

    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 900)
    informative = np.eye(4)[y] @ rng.standard_normal((4, 6)) + 0.2 * rng.standard_normal((900, 6))
    a1, a2 = probe_accuracy(informative, rng.standard_normal((900, 3)), y)
    assert a1 > 0.95 and abs(a2 - 0.25) < 0.08
    with pytest.raises(InvalidInputError, match="at least two values"):
        probe_accuracy(informative, informative, np.zeros(900))


def test_a_warned_profile_says_how_far_to_trust_the_pick():
    from interplay.analysis.recommend import InteractionProfile

    shares = {"redundancy": 0.1, "unique1": 0.1, "unique2": 0.1, "synergy": 0.7}
    ci = {"redundancy": (0.05, 0.15), "unique1": (0.05, 0.15), "unique2": (0.05, 0.15),
          "synergy": (0.6, 0.8)}
    warned = InteractionProfile(shares=shares, pid=None, estimator="test", reason="test",
                                share_ci=ci, warnings=("few samples per cell",))
    note = [n for n in recommend_fusion(warned).notes if "estimator warning" in n]
    assert note and "synergy share of 70.0% (range [60.0%, 80.0%])" in note[0]
    clean = InteractionProfile(shares=shares, pid=None, estimator="test", reason="test")
    assert not any("estimator warning" in n for n in recommend_fusion(clean).notes)


def test_cli_unimodal_accuracy_given_none_or_bad(tmp_path, capsys):
    out = tmp_path / "rec.json"
    assert main(["recommend", "--example", "gates", "--unimodal-accuracy", "none",
                 "--no-progress", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["unimodal_accuracy"] is None and ENSEMBLE not in data["excluded"]
    assert main(["recommend", "--example", "gates", "--unimodal-accuracy", "0.95, 0.5",
                 "--no-progress", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["unimodal_accuracy"] == {"x1": 0.95, "x2": 0.5,
                                                                "source": "given"}
    capsys.readouterr()
    assert main(["recommend", "--example", "gates", "--unimodal-accuracy", "0.9,2",
                 "--no-progress"]) == 2
    assert "--unimodal-accuracy must be two accuracies" in capsys.readouterr().err
