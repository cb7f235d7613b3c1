"""MultimodalModel end to end, and the unimodal baselines and ensemble."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from interplay.exceptions import InvalidInputError
from interplay.models import (
    ModelOutput,
    MultimodalModel,
    UnimodalEnsemble,
    UnimodalModel,
    create_encoder,
    create_fusion,
    create_head,
)


def _inputs(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {
        "img": torch.randn(n, 1, 8, 8, generator=g),
        "snd": torch.randn(n, 12, 5, generator=g),
        "tab": torch.randn(n, 4, generator=g),
    }


def _model(fusion="gated", seed=0):
    torch.manual_seed(seed)
    enc = {
        "img": create_encoder("image", (1, 8, 8), 6, channels=(4,)),
        "snd": create_encoder("audio", (None, 5), 6, hidden_dim=8),
        "tab": create_encoder("vector", 4, 6, hidden_dims=(8,)),
    }
    opts = {"d_model": 8, "n_heads": 2} if fusion in ("cross_attention", "perceiver") else {}
    fuse = create_fusion(fusion, {m: 6 for m in enc}, 10, **opts)
    return MultimodalModel(enc, fuse, create_head("classification", 10, 3))


@pytest.mark.parametrize("fusion", ["early", "tensor", "perceiver"])
def test_model_forward_backward_and_fused(fusion):
    model = _model(fusion)
    x = _inputs()
    result = model(x)
    out = result.logits
    assert isinstance(result, ModelOutput) and out.shape == (6, 3)
    assert model.fuse(x).shape == (6, 10)
    torch.testing.assert_close(result.fused, model.fuse(x))
    assert {k: v.shape for k, v in model.encode(x).items()} == {m: (6, 6) for m in x}
    assert {k: v.shape for k, v in result.embeddings.items()} == {m: (6, 6) for m in x}
    torch.testing.assert_close(model.decode(result.embeddings), out)
    assert result.latents is None
    F.cross_entropy(out, torch.tensor([0, 1, 2, 0, 1, 2])).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_product_of_experts_exposes_its_posterior_as_a_latent():
    model = _model("poe")
    x = _inputs()
    mask = torch.tensor([[True, True, False]] * 3 + [[False, True, True]] * 3)
    out = model(x, mask)
    mean, log_var = out.latents["fused"]
    post_mean, post_var = model.fusion.posterior(model.encode(x, mask), mask)
    torch.testing.assert_close(mean, post_mean)
    torch.testing.assert_close(log_var.exp(), post_var)
    assert out.fused is mean
    torch.testing.assert_close(out.logits, model.decode(out.embeddings, mask))


def test_missing_placeholders_leave_outputs_and_gradients_untouched():
    model = _model("late")
    x = _inputs()
    mask = torch.ones(6, 3, dtype=torch.bool)
    mask[:3, 0] = False
    mask[4, 2] = False
    y = torch.tensor([0, 1, 2, 0, 1, 2])

    def run(inputs):
        model.zero_grad()
        out = model(inputs, mask).logits
        F.cross_entropy(out, y).backward()
        return out.detach(), [p.grad.clone() for p in model.parameters()]

    out, grads = run(x)
    nan_x = {m: v.clone() for m, v in x.items()}
    nan_x["img"][:3] = float("nan")
    nan_x["tab"][4] = float("nan")
    out2, grads2 = run(nan_x)
    assert torch.equal(out, out2)
    assert all(torch.equal(a, b) for a, b in zip(grads, grads2, strict=True))


def test_model_rejects_mismatched_parts():
    fuse = create_fusion("early", {"a": 3, "b": 3}, 4)
    head = create_head("regression", 4, 1)
    with pytest.raises(InvalidInputError, match="one encoder per fusion modality"):
        MultimodalModel({"a": create_encoder("vector", 2, 3)}, fuse, head)
    with pytest.raises(InvalidInputError, match="FusionModule"):
        MultimodalModel({"a": torch.nn.Identity()}, torch.nn.Identity(), head)
    model = MultimodalModel(
        {"a": create_encoder("vector", 2, 3), "b": create_encoder("vector", 2, 3)}, fuse, head
    )
    with pytest.raises(InvalidInputError, match="missing \\['b'\\]"):
        model({"a": torch.randn(2, 2)})


def _ensemble(combine="probabilities", out=3):
    torch.manual_seed(0)
    task = "classification" if combine == "probabilities" else "regression"
    models = [
        UnimodalModel(
            "img", create_encoder("image", (1, 8, 8), 6, channels=(4,)), create_head(task, 6, out)
        ),
        UnimodalModel("tab", create_encoder("vector", 4, 6), create_head(task, 6, out)),
    ]
    return UnimodalEnsemble(models, combine=combine)


def test_unimodal_model_sees_only_its_modality():
    ens = _ensemble()
    uni = ens.models["tab"]
    x = _inputs()
    result = uni(x)
    out = result.logits
    assert list(result.embeddings) == ["tab"] and result.fused is result.embeddings["tab"]
    x2 = dict(x, img=torch.randn(6, 1, 8, 8), snd=torch.randn(6, 3, 5))
    assert torch.equal(uni(x2).logits, out)
    assert not torch.allclose(uni(dict(x, tab=x["tab"] + 1)).logits, out)
    # Missing: the prediction is the one for zeros, whatever the placeholder.
    missing = torch.zeros(6, dtype=torch.bool)
    torch.testing.assert_close(
        uni(dict(x, tab=torch.full((6, 4), float("nan"))), missing).logits,
        uni(dict(x, tab=torch.zeros(6, 4))).logits,
    )


def test_ensemble_averages_probabilities_over_present_models():
    ens = _ensemble()
    x = _inputs()
    each = ens.forward_each(x)
    probs = (each["img"].softmax(1) + each["tab"].softmax(1)) / 2
    logp = ens(x).logits
    assert sorted(ens(x).embeddings) == ["img", "tab"]
    torch.testing.assert_close(logp, probs.log())
    torch.testing.assert_close(logp.exp().sum(1), torch.ones(6))
    mask = torch.tensor([[True, False], [False, True], [False, False]] * 2)
    masked = ens(x, mask).logits
    torch.testing.assert_close(masked[0], F.log_softmax(each["img"][0], 0))
    torch.testing.assert_close(masked[1], F.log_softmax(each["tab"][1], 0))
    torch.testing.assert_close(masked[2], torch.full((3,), -math.log(3)))
    x2 = {
        m: torch.where(mask[:, i].view(-1, *[1] * (v.ndim - 1)), v, torch.randn_like(v))
        for i, (m, v) in enumerate((k, x[k]) for k in ens.modalities)
    }
    assert torch.equal(ens(dict(x, **x2), mask).logits, masked)


def test_ensemble_mean_for_regression():
    ens = _ensemble("mean", out=2)
    x = _inputs()
    each = ens.forward_each(x)
    torch.testing.assert_close(ens(x).logits, (each["img"] + each["tab"]) / 2)
    mask = torch.tensor([[False, True]] * 3 + [[False, False]] * 3)
    out = ens(x, mask).logits
    torch.testing.assert_close(out[:3], each["tab"][:3])
    assert torch.equal(out[3:], torch.zeros(3, 2))


def test_ensemble_gradients_reach_every_model():
    ens = _ensemble()
    F.nll_loss(ens(_inputs()).logits, torch.tensor([0, 1, 2, 0, 1, 2])).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in ens.parameters())


def test_bad_baseline_arguments():
    enc, head = create_encoder("vector", 4, 6), create_head("classification", 6, 3)
    with pytest.raises(InvalidInputError, match="`modality`"):
        UnimodalModel("", enc, head)
    with pytest.raises(InvalidInputError, match="`head`"):
        UnimodalModel("tab", enc, "linear")
    with pytest.raises(InvalidInputError, match="holding modality 'tab'"):
        UnimodalModel("tab", enc, head)({"img": torch.randn(2, 4)})
    with pytest.raises(InvalidInputError, match="at least 2"):
        UnimodalEnsemble([UnimodalModel("tab", enc, head)])
    with pytest.raises(InvalidInputError, match="of that modality"):
        UnimodalEnsemble(
            {"img": UnimodalModel("tab", enc, head), "tab": UnimodalModel("tab", enc, head)}
        )
    with pytest.raises(InvalidInputError, match="duplicates"):
        UnimodalEnsemble([UnimodalModel("tab", enc, head), UnimodalModel("tab", enc, head)])
    with pytest.raises(InvalidInputError, match="`combine` must be one of"):
        _ensemble("vote")
    with pytest.raises(InvalidInputError, match=r"\(6, 2\)"):
        _ensemble()(_inputs(), torch.ones(6, 3, dtype=torch.bool))


def test_model_and_ensemble_follow_the_device_of_their_inputs():
    x = {m: v.to("meta") for m, v in _inputs().items()}
    mask = torch.ones(6, 3, dtype=torch.bool)
    out = _model("poe").to("meta")(x, mask)
    assert out.logits.device.type == "meta" and out.latents["fused"][1].device.type == "meta"
    ens = _ensemble().to("meta")
    assert ens(x, torch.ones(6, 2, dtype=torch.bool)).logits.device.type == "meta"
