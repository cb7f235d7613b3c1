"""The contract every registered fusion module keeps (parametrized over list_fusions())."""

from __future__ import annotations

import pytest
import torch

from interplay.exceptions import InvalidInputError
from interplay.models import FusionModule, create_fusion, list_fusions

FUSIONS = sorted(list_fusions())
#: Smaller settings for the transformer fusions so the suite stays fast.
SMALL = {
    "cross_attention": {"d_model": 8, "n_heads": 2},
    "perceiver": {"d_model": 8, "n_heads": 2, "n_latents": 3},
}
DIMS2 = {"image": 4, "audio": 3}
DIMS3 = {"image": 4, "audio": 3, "text": 5}
OUT = 6


def make(name: str, dims, seed: int = 0, **kwargs) -> FusionModule:
    torch.manual_seed(seed)
    return create_fusion(name, dims, OUT, **{**SMALL.get(name, {}), **kwargs})


def batch(dims, n: int = 7, seed: int = 1, seq: int | None = None) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    shape = (lambda d: (n, d)) if seq is None else (lambda d: (n, seq, d))
    return {m: torch.randn(*shape(d), generator=g) for m, d in dims.items()}


def test_registry_holds_the_required_fusions():
    required = {
        "early",
        "late",
        "tensor",
        "low_rank_tensor",
        "multiplicative",
        "gated",
        "cross_attention",
        "perceiver",
        "poe",
    }
    assert required <= set(FUSIONS)
    assert all(isinstance(d, str) and d for d in list_fusions().values())


@pytest.mark.parametrize("name", FUSIONS)
@pytest.mark.parametrize("dims", [DIMS2, DIMS3], ids=["2mod", "3mod"])
def test_output_shape_and_finite(name, dims):
    f = make(name, dims)
    assert isinstance(f, FusionModule) and f.modalities == tuple(dims)
    out = f(batch(dims))
    assert out.shape == (7, OUT)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", FUSIONS)
def test_list_dims_and_list_inputs(name):
    f = make(name, [4, 3, 5])
    assert f.modalities == ("0", "1", "2")
    xs = list(batch(DIMS3).values())
    out_list = f(xs)
    out_dict = f(dict(zip(f.modalities, xs, strict=True)))
    assert torch.equal(out_list, out_dict)


@pytest.mark.parametrize("name", FUSIONS)
@pytest.mark.parametrize("dims", [DIMS2, DIMS3], ids=["2mod", "3mod"])
def test_every_parameter_gets_a_gradient(name, dims):
    f = make(name, dims)
    out = f(batch(dims))
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(3))
    (out * weights).sum().backward()
    params = list(f.named_parameters())
    assert params, "a fusion without parameters cannot be trained"
    for pname, p in params:
        assert p.grad is not None, f"{name}: {pname} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name}: {pname} has a non-finite gradient"
        assert p.grad.abs().sum() > 0, f"{name}: {pname} has an all-zero gradient"


@pytest.mark.parametrize("name", FUSIONS)
def test_deterministic_by_seed(name):
    x = batch(DIMS3)
    a, b, c = make(name, DIMS3, seed=5), make(name, DIMS3, seed=5), make(name, DIMS3, seed=6)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert torch.equal(a(x), b(x))
    assert not torch.allclose(a(x), c(x))


@pytest.mark.parametrize("name", FUSIONS)
@pytest.mark.parametrize("dims", [DIMS2, DIMS3], ids=["2mod", "3mod"])
def test_missing_modalities_do_not_influence_output(name, dims):
    f = make(name, dims)
    n, k = 9, len(dims)
    x = batch(dims, n=n)
    g = torch.Generator().manual_seed(11)
    mask = torch.rand(n, k, generator=g) > 0.4
    mask[0] = False  # nothing present
    mask[1] = True  # everything present
    mask[2] = False
    mask[2, 0] = True  # only the first modality
    out = f(x, mask)
    assert torch.isfinite(out).all()

    # Replace every masked-out entry: by other random values, then by NaN.
    for fill in ("random", "nan"):
        x2 = {}
        for i, (m, v) in enumerate(x.items()):
            other = (
                torch.randn(v.shape, generator=g)
                if fill == "random"
                else torch.full_like(v, float("nan"))
            )
            x2[m] = torch.where(mask[:, i].view(-1, 1), v, other)
        assert torch.equal(f(x2, mask), out), (
            f"{name}: masked-out input changed the output ({fill})"
        )

    # A present input does influence its row (the mask is not simply ignoring everything).
    x3 = {m: v.clone() for m, v in x.items()}
    first = next(iter(x3))
    x3[first][1] += 1.0
    assert not torch.allclose(f(x3, mask)[1], out[1])


@pytest.mark.parametrize("name", FUSIONS)
def test_masked_inputs_get_zero_gradient(name):
    f = make(name, DIMS3)
    x = {m: v.requires_grad_() for m, v in batch(DIMS3).items()}
    mask = torch.ones(7, 3, dtype=torch.bool)
    mask[:3, 1] = False
    f(x, mask).pow(2).sum().backward()
    grad = x["audio"].grad
    assert torch.equal(grad[:3], torch.zeros_like(grad[:3]))
    assert grad[3:].abs().sum() > 0


@pytest.mark.parametrize("name", FUSIONS)
def test_rows_are_independent_of_the_batch(name):
    f = make(name, DIMS2)
    x = batch(DIMS2)
    full = f(x)
    single = f({m: v[2:3] for m, v in x.items()})
    torch.testing.assert_close(single, full[2:3], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", FUSIONS)
def test_token_sequences(name):
    f = make(name, DIMS2)
    x = batch(DIMS2, seq=4)
    if not f.accepts_sequences:
        with pytest.raises(InvalidInputError, match=r"\(N, d\)"):
            f(x)
        return
    mask = torch.tensor([[True, False]] * 4 + [[False, True]] * 3)
    out = f(x, mask)
    assert out.shape == (7, OUT)
    x2 = {
        m: torch.where(mask[:, i].view(-1, 1, 1), v, torch.randn_like(v))
        for i, (m, v) in enumerate(x.items())
    }
    assert torch.equal(f(x2, mask), out)
    # Mixed: one modality as a sequence, another as a single vector.
    assert f({"image": x["image"], "audio": x["audio"][:, 0]}).shape == (7, OUT)


@pytest.mark.parametrize("name", FUSIONS)
def test_bad_construction_arguments(name):
    opts = SMALL.get(name, {})
    with pytest.raises(InvalidInputError, match="at least 2 modalities"):
        create_fusion(name, {"image": 4}, OUT, **opts)
    with pytest.raises(InvalidInputError, match="output_dim"):
        create_fusion(name, DIMS2, 0, **opts)
    with pytest.raises(InvalidInputError, match=r"input_dims\['audio'\]"):
        create_fusion(name, {"image": 4, "audio": -1}, OUT, **opts)
    with pytest.raises(InvalidInputError, match="input_dims"):
        create_fusion(name, "image", OUT, **opts)
    with pytest.raises(InvalidInputError, match="without '.'"):
        create_fusion(name, {"a.b": 4, "c": 2}, OUT, **opts)
    with pytest.raises(InvalidInputError, match="unknown option"):
        create_fusion(name, DIMS2, OUT, no_such_option=1)


@pytest.mark.parametrize("name", FUSIONS)
def test_bad_forward_arguments(name):
    f = make(name, DIMS2)
    x = batch(DIMS2)
    with pytest.raises(InvalidInputError, match="missing \\['audio'\\]"):
        f({"image": x["image"]})
    with pytest.raises(InvalidInputError, match="4 features"):
        f({"image": torch.randn(7, 5), "audio": x["audio"]})
    with pytest.raises(InvalidInputError, match="batch size"):
        f({"image": x["image"], "audio": x["audio"][:3]})
    with pytest.raises(InvalidInputError, match="floating-point"):
        f({"image": x["image"].long(), "audio": x["audio"]})
    with pytest.raises(InvalidInputError, match="boolean"):
        f(x, torch.ones(7, 2))
    with pytest.raises(InvalidInputError, match=r"\(7, 2\)"):
        f(x, torch.ones(7, 3, dtype=torch.bool))
    with pytest.raises(InvalidInputError, match="2 tensors"):
        f([x["image"]])
    with pytest.raises(InvalidInputError):
        f(x["image"])


def test_unknown_fusion_name():
    with pytest.raises(InvalidInputError, match="`name` must be one of"):
        create_fusion("no_such_fusion", DIMS2, OUT)


@pytest.mark.parametrize("name", FUSIONS)
def test_follows_the_device_of_its_inputs(name):
    # The "meta" device stands in for an accelerator: any tensor created on a hard-coded device
    # would clash with the meta inputs.
    f = make(name, DIMS3).to("meta")
    x = {m: v.to("meta") for m, v in batch(DIMS3).items()}
    mask = torch.ones(7, 3, dtype=torch.bool)
    out = f(x, mask)
    assert out.device.type == "meta" and out.shape == (7, OUT)
