"""Encoders: shapes per kind, any image size, sequence lengths, order sensitivity, errors."""

from __future__ import annotations

import pytest
import torch

from interplay.exceptions import InvalidInputError
from interplay.models import (
    ConvEncoder,
    MLPEncoder,
    ProjectionEncoder,
    SequenceEncoder,
    create_encoder,
    list_encoders,
)


@pytest.mark.parametrize(
    ("kind", "shape", "sample", "cls"),
    [
        ("vector", 5, (5,), MLPEncoder),
        ("vector", (5,), (5,), MLPEncoder),
        ("image", (3, 16, 12), (3, 16, 12), ConvEncoder),
        ("sequence", (10, 4), (10, 4), SequenceEncoder),
        ("audio", (None, 13), (20, 13), SequenceEncoder),
        ("embedding", (7,), (7,), ProjectionEncoder),
    ],
)
def test_create_encoder_shapes_and_gradients(kind, shape, sample, cls):
    torch.manual_seed(0)
    enc = create_encoder(kind, shape, 6)
    assert isinstance(enc, cls) and enc.output_dim == 6
    out = enc(torch.randn(4, *sample))
    assert out.shape == (4, 6)
    out.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in enc.parameters())


def test_list_encoders_names_every_kind():
    assert set(list_encoders()) == {"vector", "image", "sequence", "audio", "embedding"}


@pytest.mark.parametrize("hw", [(1, 1), (5, 7), (28, 28)])
def test_conv_encoder_takes_any_image_size(hw):
    assert ConvEncoder(2, 3)(torch.randn(2, 2, *hw)).shape == (2, 3)


@pytest.mark.parametrize("arch", ["conv", "transformer"])
def test_sequence_encoder_lengths_and_tokens(arch):
    torch.manual_seed(0)
    enc = SequenceEncoder(4, 6, arch=arch, hidden_dim=8, n_heads=2)
    assert enc(torch.randn(3, 1, 4)).shape == (3, 6)
    assert enc(torch.randn(3, 17, 4)).shape == (3, 6)
    tok = SequenceEncoder(4, 6, arch=arch, hidden_dim=8, n_heads=2, return_sequence=True)
    assert tok(torch.randn(3, 9, 4)).shape == (3, 9, 6)


@pytest.mark.parametrize("arch", ["conv", "transformer"])
def test_sequence_encoders_see_order(arch):
    torch.manual_seed(0)
    enc = SequenceEncoder(4, 6, arch=arch, hidden_dim=8, n_heads=2)
    x = torch.randn(2, 9, 4)
    assert not torch.allclose(enc(x), enc(x.flip(1)), atol=1e-5)


def test_projection_identity_has_no_parameters():
    enc = ProjectionEncoder(4, 4, project=False)
    x = torch.randn(3, 4)
    assert torch.equal(enc(x), x) and not list(enc.parameters())
    with pytest.raises(InvalidInputError, match="must equal `input_dim`"):
        ProjectionEncoder(4, 5, project=False)


def test_encoders_are_deterministic_by_seed():
    x = torch.randn(2, 1, 8, 8)
    torch.manual_seed(3)
    a = create_encoder("image", (1, 8, 8), 4)
    torch.manual_seed(3)
    b = create_encoder("image", (1, 8, 8), 4)
    assert torch.equal(a(x), b(x))


def test_bad_encoder_arguments():
    with pytest.raises(InvalidInputError, match="`kind` must be one of"):
        create_encoder("video", (3, 8, 8), 4)
    with pytest.raises(InvalidInputError, match=r"\(channels, height, width\)"):
        create_encoder("image", (8, 8), 4)
    with pytest.raises(InvalidInputError, match="input_shape\\[1\\]"):
        create_encoder("image", (3, 0, 8), 4)
    with pytest.raises(InvalidInputError, match="output_dim"):
        create_encoder("vector", 5, 0)
    with pytest.raises(InvalidInputError, match="Bad option"):
        create_encoder("vector", 5, 3, no_such_option=1)
    with pytest.raises(InvalidInputError, match="`arch` must be one of"):
        create_encoder("sequence", (None, 4), 3, arch="rnn")
    with pytest.raises(InvalidInputError, match="divisible"):
        create_encoder("audio", (None, 4), 3, arch="transformer", hidden_dim=10, n_heads=4)
    with pytest.raises(InvalidInputError, match="hidden_dims"):
        create_encoder("vector", 5, 3, hidden_dims=8)


def test_encoders_reject_wrong_input_shapes():
    with pytest.raises(InvalidInputError, match=r"\(N, 5\)"):
        MLPEncoder(5, 3)(torch.randn(4, 6))
    with pytest.raises(InvalidInputError, match=r"\(N, 3, H, W\)"):
        ConvEncoder(3, 2)(torch.randn(4, 1, 8, 8))
    with pytest.raises(InvalidInputError, match=r"\(N, T, 4\)"):
        SequenceEncoder(4, 2)(torch.randn(4, 4))
    with pytest.raises(InvalidInputError, match="floating-point"):
        MLPEncoder(5, 3)(torch.ones(4, 5, dtype=torch.long))
