"""Bundled real datasets: shapes, provenance, determinism and the documented baseline figures."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from interplay.data import dataset_entry, list_datasets, load_dataset, logistic_baseline
from interplay.data.bundled_av import make_av_digits, mfcc
from interplay.data.registry import composed_parity_baseline, first_canonical_correlation
from interplay.exceptions import InvalidInputError

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (apt-get install espeak-ng)")


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Logistic regressions on a shared 2-core machine are far faster on one BLAS thread."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One cache folder for the module, so that av-digits' clips are synthesised once."""
    path = tmp_path_factory.mktemp("interplay-cache")
    old = os.environ.get("INTERPLAY_CACHE")
    os.environ["INTERPLAY_CACHE"] = str(path)
    yield path
    if old is None:
        del os.environ["INTERPLAY_CACHE"]
    else:
        os.environ["INTERPLAY_CACHE"] = old


def _expected(name: str, target: str) -> dict[str, float]:
    return dataset_entry(name).baseline["scores"][target]


def _close(got: dict[str, float], want: dict[str, float], tol: float) -> None:
    assert set(got) <= set(want)
    for k, v in got.items():
        assert abs(v - want[k]) <= tol, (k, v, want[k])


def test_registry_lists_every_dataset_with_provenance():
    names = list_datasets()
    assert names == sorted(["av-digits", "av-digits-synergy", "linnerud", "mfeat",
                            "noisy-digits", "nutrimouse"])
    for n in names:
        e = dataset_entry(n)
        assert e.summary and e.baseline["protocol"] and e.baseline["scores"]
    with pytest.raises(InvalidInputError, match="`name` must be one of"):
        load_dataset("mnist")
    with pytest.raises(InvalidInputError, match="accepts pix_as_image"):
        load_dataset("mfeat", colour="red")
    with pytest.raises(InvalidInputError, match="'synergy'"):
        load_dataset("av-digits-synergy", synergy=False)


def test_linnerud_and_its_canonical_correlation():
    from sklearn.cross_decomposition import CCA

    ds = load_dataset("linnerud")
    assert ds.shapes() == {"exercise": (3,), "physiological": (3,)} and len(ds) == 20
    a, b = ds.modalities["exercise"], ds.modalities["physiological"]
    rho = first_canonical_correlation(a, b)
    u, v = CCA(n_components=1, max_iter=5000, tol=1e-12).fit_transform(a, b)
    assert rho == pytest.approx(abs(np.corrcoef(u[:, 0], v[:, 0])[0, 1]), abs=1e-4)
    assert rho == pytest.approx(_expected("linnerud", "exercise~physiological")["cca1"],
                                abs=1e-3)
    assert "BSD" in ds.metadata.licence


def test_nutrimouse_structure_and_baseline():
    ds = load_dataset("nutrimouse")
    assert ds.shapes() == {"gene": (120,), "lipid": (21,)} and len(ds) == 40
    assert ds.metadata.classes["genotype"] == ("wt", "ppar")
    cells = np.bincount(ds.targets["genotype"] * 5 + ds.targets["diet"])
    assert cells.tolist() == [4] * 10
    assert len(ds.metadata.extra["gene_names"]) == 120
    for target in ("genotype", "diet"):
        _close(logistic_baseline(ds, target=target, folds=5), _expected("nutrimouse", target),
               0.05)


def test_mfeat_values_and_baseline():
    ds = load_dataset("mfeat")
    assert ds.shapes() == {"fou": (76,), "fac": (216,), "kar": (64,), "pix": (240,),
                           "zer": (47,), "mor": (6,)}
    assert np.bincount(ds.target).tolist() == [200] * 10
    # first values of the published text files
    assert ds.modalities["fou"][0, :3].tolist() == [0.065882, 0.19731, 0.10383]
    pix = ds.modalities["pix"]
    assert pix.min() == 0 and pix.max() == 6 and np.all(pix == np.round(pix))
    assert "CC BY 4.0" in ds.metadata.licence and "Duin" in ds.metadata.source
    assert load_dataset("mfeat", pix_as_image=True).shapes()["pix"] == (16, 15)
    scores = logistic_baseline(ds)
    _close(scores, _expected("mfeat", "digit"), 0.03)
    assert scores["all"] > max(v for k, v in scores.items() if k != "all") - 0.01


def test_noisy_digits_views_and_baseline():
    ds = load_dataset("noisy-digits")
    assert ds.shapes() == {"rotated": (16, 16), "noisy": (16, 16)} and len(ds) == 1797
    again = load_dataset("noisy-digits")
    np.testing.assert_array_equal(ds.modalities["noisy"], again.modalities["noisy"])
    other = load_dataset("noisy-digits", n_samples=50, seed=1)
    assert not np.array_equal(other.modalities["rotated"], ds.modalities["rotated"][:50])
    for v in ("rotated", "noisy"):
        assert ds.modalities[v].min() >= 0 and ds.modalities[v].max() <= 1
    # no noise and no rotation: view 1 is the clean source image, view 2 a different image
    clean = load_dataset("noisy-digits", n_samples=200, max_angle=0, max_scale=0, noise=0)
    from interplay.data.bundled_digits import sklearn_digits, upsample

    images, labels = sklearn_digits()
    src = clean.targets["source_index"]
    np.testing.assert_allclose(clean.modalities["rotated"], upsample(images[src]), atol=1e-9)
    assert np.array_equal(labels[src], clean.target)
    diff = np.abs(clean.modalities["noisy"] - clean.modalities["rotated"]).reshape(200, -1)
    assert np.all(diff.max(axis=1) > 0)
    _close(logistic_baseline(ds), _expected("noisy-digits", "digit"), 0.04)


def test_mfcc_of_a_pure_tone_peaks_in_the_right_mel_band():
    rate = 22050
    t = np.arange(rate // 2) / rate
    low = mfcc(np.sin(2 * np.pi * 300 * t), rate)
    high = mfcc(np.sin(2 * np.pi * 3000 * t), rate)
    assert low.shape == (20, 13)
    # c1 weighs low bands positively and high bands negatively
    assert low[:, 1].mean() > high[:, 1].mean()


@needs_espeak
def test_av_digits_is_deterministic_and_cached(cache):
    a = make_av_digits(40, n_voices=2, seed=5, cache=False, progress=False)
    b = make_av_digits(40, n_voices=2, seed=5, cache=False, progress=False)
    np.testing.assert_array_equal(a.modalities["audio"], b.modalities["audio"])
    np.testing.assert_array_equal(a.modalities["image"], b.modalities["image"])
    c = make_av_digits(40, n_voices=2, seed=5, progress=False)
    np.testing.assert_array_equal(a.modalities["audio"], c.modalities["audio"])
    files = sorted(p.name.split("-")[0] for p in (cache / "av-digits").iterdir())
    assert files == ["clips", "dataset"]
    d = make_av_digits(40, n_voices=2, seed=5, progress=False)  # read back from the cache
    np.testing.assert_array_equal(c.modalities["audio"], d.modalities["audio"])
    assert d.metadata == c.metadata
    assert a.shapes() == {"image": (8, 8), "audio": (20, 13)}
    assert set(a.targets["voice"]) <= {0, 1}


@needs_espeak
def test_av_digits_noise_controls(cache):
    clean = make_av_digits(300, n_voices=6, image_noise=0.0, audio_snr_db=40.0, progress=False)
    noisy = make_av_digits(300, n_voices=6, image_noise=2.0, audio_snr_db=-25.0,
                           progress=False)
    s_clean = logistic_baseline(clean)
    s_noisy = logistic_baseline(noisy)
    assert s_clean["image"] > 0.8 and s_clean["audio"] > 0.9
    assert s_noisy["image"] < s_clean["image"] - 0.3
    assert s_noisy["audio"] < s_clean["audio"] - 0.3


@needs_espeak
def test_av_digits_synergy_needs_both_modalities(cache):
    ds = make_av_digits(300, n_voices=6, image_noise=0.0, audio_snr_db=40.0, synergy=True,
                        progress=False)
    assert ds.default_target == "parity"
    assert max(logistic_baseline(ds).values()) < 0.65
    assert composed_parity_baseline(ds) > 0.85


@pytest.mark.slow
@needs_espeak
def test_av_digits_default_baseline(cache):
    ds = load_dataset("av-digits", progress=False)
    assert len(ds) == 1797 and ds.metadata.licence
    scores = logistic_baseline(ds)
    _close(scores, _expected("av-digits", "digit"), 0.05)
    assert scores["all"] > max(scores["image"], scores["audio"]) + 0.03  # complementary


@pytest.mark.slow
@needs_espeak
def test_av_digits_synergy_baseline(cache):
    ds = load_dataset("av-digits-synergy", progress=False)
    t = ds.targets
    np.testing.assert_array_equal(t["parity"], (t["image_digit"] + t["audio_digit"]) % 2)
    # independent draws: each digit alone says (almost) nothing about the parity
    assert abs(np.corrcoef(t["image_digit"], t["audio_digit"])[0, 1]) < 0.1
    scores = logistic_baseline(ds)
    _close(scores, _expected("av-digits-synergy", "parity"), 0.06)
    assert max(scores.values()) < 0.6
    composed = composed_parity_baseline(ds)
    assert composed == pytest.approx(_expected("av-digits-synergy", "parity")["composed"],
                                     abs=0.05)
