"""The recipe compiler: presets, textbook formulas on fixed noise, and bad input."""

from __future__ import annotations

import math

import pytest
import torch

from interplay.exceptions import InvalidInputError
from interplay.objectives import (
    PRESETS,
    IBGraph,
    Latent,
    Observed,
    compile_objective,
    create_objective,
    list_objectives,
)

PRESET_NAMES = sorted(PRESETS)


def make_batch(views: dict[str, tuple[int, ...]], n: int = 12, seed: int = 0
               ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return ({m: torch.rand(n, *s, generator=g) for m, s in views.items()},
            torch.randint(0, 3, (n,), generator=g))


def test_registry_lists_every_preset() -> None:
    assert PRESET_NAMES == ["beta-dvcca", "beta-dvcca-private", "beta-vae", "dsib", "dvib",
                            "dvsib", "dvsib-private", "multi-view-ib"]
    listed = list_objectives()
    assert all(listed[name] == PRESETS[name].description for name in PRESET_NAMES)


@pytest.mark.parametrize("name", PRESET_NAMES)
@pytest.mark.parametrize("views", [{"a": (5,), "b": (2, 3)}, {"a": (5,), "b": (3,), "c": (4,)}],
                         ids=["2 views", "3 views"])
def test_preset_finite_loss_and_every_parameter_gets_a_gradient(
        name: str, views: dict[str, tuple[int, ...]]) -> None:
    torch.manual_seed(0)
    obj = create_objective(name, modalities=views, latent_dim=3, beta=2.0,
                           target_classes=3 if name == "dvib" else None, hidden=(8,))
    batch, label = make_batch(views)
    out = obj(None, batch, label)
    assert torch.isfinite(out["loss"])
    assert set(out) == {"loss", *obj.term_names}
    out["loss"].backward()
    params = dict(obj.named_parameters())
    assert params
    missing = [n for n, p in params.items() if p.grad is None or not torch.any(p.grad != 0)]
    assert missing == []
    assert all(torch.isfinite(p.grad).all() for p in params.values())


def test_preset_terms_follow_the_graphs() -> None:
    obj = create_objective("dvsib-private", modalities={"x": 4, "y": 4}, latent_dim=2)
    assert obj.term_names == ("kl:x->Z_x", "kl:x->W_x", "kl:y->Z_y", "kl:y->W_y",
                              "loglik:Z_x,W_x->x", "loglik:Z_y,W_y->y", "mi:Z_x~Z_y")
    dsib = create_objective("dsib", modalities={"x": 4, "y": 4, "z": 4}, latent_dim=2)
    assert dsib.term_names == ("mi:Z_x~Z_y", "mi:Z_x~Z_z", "mi:Z_y~Z_z")
    mvib = create_objective("multi-view-ib", modalities={"x": 4, "y": 4}, latent_dim=2)
    assert "loglik:Z_x->y" in mvib.term_names and "loglik:Z_y->x" in mvib.term_names


def test_beta_vae_equals_textbook_formula() -> None:
    """L = KL(q(z|x) || N(0, I)) - beta E log N(x; dec(z), I), on fixed noise."""
    torch.manual_seed(1)
    beta = 0.7
    obj = create_objective("beta-vae", modalities={"x": 6}, latent_dim=3, beta=beta, hidden=(16,))
    x = torch.randn(10, 6)
    eps = torch.randn(10, 3)
    out = obj(None, {"x": x}, noise={"Z_x": eps})
    mu, log_var = obj.encoders["Z_x"](x).chunk(2, dim=1)
    std = torch.exp(0.5 * log_var)
    q = torch.distributions.Normal(mu, std)
    prior = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(std))
    kl = torch.distributions.kl_divergence(q, prior).sum(1).mean()
    x_hat = obj.decoders["x"](mu + std * eps)
    loglik = torch.distributions.Normal(x_hat, 1.0).log_prob(x).sum(1).mean()
    assert out["kl:x->Z_x"].item() == pytest.approx(kl.item(), rel=1e-5)
    assert out["loglik:Z_x->x"].item() == pytest.approx(loglik.item(), rel=1e-5)
    assert out["loss"].item() == pytest.approx((kl - beta * loglik).item(), rel=1e-5)


def test_dvib_equals_textbook_formula() -> None:
    """L = KL(q(z|x) || N(0, I)) - beta E log p(y | z) with a softmax decoder."""
    torch.manual_seed(2)
    beta = 3.0
    obj = create_objective("dvib", modalities={"x": 5}, latent_dim=2, beta=beta,
                           target_classes=4, hidden=(16,))
    x, y, eps = torch.randn(9, 5), torch.randint(0, 4, (9,)), torch.randn(9, 2)
    out = obj(None, {"x": x}, y, noise={"Z": eps})
    mu, log_var = obj.encoders["Z"](x).chunk(2, dim=1)
    std = torch.exp(0.5 * log_var)
    kl = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, std), torch.distributions.Normal(0.0, 1.0)).sum(1).mean()
    logits = obj.decoders["label"](mu + std * eps)
    loglik = torch.distributions.Categorical(logits=logits).log_prob(y).mean()
    assert out["loss"].item() == pytest.approx((kl - beta * loglik).item(), rel=1e-5)
    assert out["loglik:Z->label"].item() == pytest.approx(loglik.item(), rel=1e-5)


def test_bernoulli_likelihood_and_hierarchical_encoder() -> None:
    torch.manual_seed(3)
    obj = compile_objective(
        {"x": Observed((2, 2), "bernoulli")}, {"z1": Latent(3), "z2": Latent(2)},
        encoder=[("x", "z1"), ("z1", "z2")], decoder=[("z2", "x"), ("z1", "z2")], beta=1.0,
        hidden=(8,))
    x = torch.rand(7, 2, 2).round()
    eps = {"z1": torch.randn(7, 3), "z2": torch.randn(7, 2)}
    out = obj(None, {"x": x}, noise=eps)
    enc = obj.encode({"x": x}, noise=eps)
    logits = obj.decoders["x"](enc["z2"][2])
    ll = torch.distributions.Bernoulli(logits=logits).log_prob(x.reshape(7, 4)).sum(1).mean()
    assert out["loglik:z2->x"].item() == pytest.approx(ll.item(), rel=1e-5)
    assert obj.graph.order == ["z1", "z2"]


def test_deterministic_latent_has_no_kl_term() -> None:
    obj = compile_objective({"x": Observed(3), "y": Observed(3)},
                            {"zx": Latent(2, stochastic=False), "zy": Latent(2)},
                            [("x", "zx"), ("y", "zy")], [("zx", "zy"), ("zy", "y")])
    assert obj.term_names == ("kl:y->zy", "loglik:zy->y", "mi:zx~zy")


def graph_kwargs() -> dict:
    return {"observed": {"x": Observed(3), "y": Observed(3)},
            "latents": {"z": Latent(2)},
            "encoder": [("x", "z")], "decoder": [("z", "x")]}


@pytest.mark.parametrize(("change", "match"), [
    ({"latents": {"z": Latent(2), "w": Latent(2)}, "encoder": [("x", "z"), ("y", "w")]},
     "decoded by nothing"),
    ({"encoder": [("x", "q")]}, "unknown variable 'q'"),
    ({"decoder": [("z", "nope")]}, "unknown variable 'nope'"),
    ({"latents": {"z": Latent(2), "w": Latent(2)},
      "encoder": [("x", "z"), ("w", "z"), ("z", "w")], "decoder": [("z", "x"), ("w", "y")]},
     "cycle"),
    ({"encoder": [("x", "y")]}, "must end in a latent"),
    ({"decoder": [("x", "z")]}, "must start at a latent"),
    ({"latents": {"z": Latent(2), "w": Latent(2)}}, "no encoder edge"),
    ({"encoder": [("x", "z"), ("x", "z")]}, "twice"),
])
def test_bad_graphs(change: dict, match: str) -> None:
    kwargs = {**graph_kwargs(), **change}
    with pytest.raises(InvalidInputError, match=match):
        IBGraph(**kwargs)


def test_bad_beta_and_options() -> None:
    with pytest.raises(InvalidInputError, match="beta"):
        compile_objective(**graph_kwargs(), beta=-1.0)
    with pytest.raises(InvalidInputError, match="mi_bound"):
        compile_objective(**graph_kwargs(), mi_bound="club")
    with pytest.raises(InvalidInputError, match="objective"):
        create_objective("vae", modalities={"x": 3})
    with pytest.raises(InvalidInputError, match="at least 2 view"):
        create_objective("dvsib", modalities={"x": 3})
    with pytest.raises(InvalidInputError, match="target_classes"):
        create_objective("dvib", modalities={"x": 3})


def test_mismatched_shapes() -> None:
    obj = compile_objective(**graph_kwargs())
    with pytest.raises(InvalidInputError, match=r"'x' must have shape \(B, 3\)"):
        obj(None, {"x": torch.randn(4, 2)})
    obj2 = create_objective("dvsib", modalities={"a": 3, "b": 2}, latent_dim=2)
    with pytest.raises(InvalidInputError, match="same number of rows"):
        obj2(None, {"a": torch.randn(4, 3), "b": torch.randn(5, 2)})
    with pytest.raises(InvalidInputError, match="needs 'b'"):
        obj2(None, {"a": torch.randn(4, 3)})
    dvib = create_objective("dvib", modalities={"a": 3}, target_classes=3)
    with pytest.raises(InvalidInputError, match="integer labels in"):
        dvib(None, {"a": torch.randn(4, 3)}, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(InvalidInputError, match="noise"):
        obj(None, {"x": torch.randn(4, 3)}, noise={"z": torch.randn(4, 5)})


def test_gaussian_loglik_constant() -> None:
    """A perfect reconstruction has log-likelihood -(d/2) log(2 pi) per sample."""
    obj = compile_objective(**graph_kwargs())
    x = torch.randn(4, 3)
    assert float(obj._log_likelihood("x", x.clone(), x).mean()) == pytest.approx(
        -1.5 * math.log(2 * math.pi))


def test_bad_variable_specs() -> None:
    with pytest.raises(InvalidInputError, match="n_classes"):
        Observed((), "categorical")
    with pytest.raises(InvalidInputError, match="only for categorical"):
        Observed(3, "gaussian", n_classes=4)
    with pytest.raises(InvalidInputError, match="kind"):
        Observed(3, "poisson")
    with pytest.raises(InvalidInputError, match="latent dim"):
        Latent(0)


def test_term_weights_scale_named_terms() -> None:
    torch.manual_seed(4)
    views = {"a": (3,), "b": (2,)}
    batch, _ = make_batch(views)
    eps = {"Z_a": torch.randn(12, 2), "Z_b": torch.randn(12, 2)}
    plain = create_objective("dvsib", modalities=views, latent_dim=2, beta=2.0, hidden=(8,))
    heavy = create_objective("dvsib", modalities=views, latent_dim=2, beta=2.0, hidden=(8,),
                             term_weights={"mi:Z_a~Z_b": 5.0, "kl:a->Z_a": 0.5})
    heavy.load_state_dict(plain.state_dict())
    p, h = plain(None, batch, noise=eps), heavy(None, batch, noise=eps)
    expected = (p["loss"] - 0.5 * p["kl:a->Z_a"] - 2.0 * 4.0 * p["mi:Z_a~Z_b"])
    assert h["loss"].item() == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(InvalidInputError, match="not terms of these graphs"):
        create_objective("dvsib", modalities=views, term_weights={"mi:a~b": 2.0})
    with pytest.raises(InvalidInputError, match="term_weights"):
        create_objective("dvsib", modalities=views, term_weights={"mi:Z_a~Z_b": -1.0})
