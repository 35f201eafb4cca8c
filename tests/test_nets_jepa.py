"""Networks (ConvEncoder, projector, CIFAR ResNet-18) and the image JEPA objective."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from ebjepa_mini.jepa import ImageJEPA
from ebjepa_mini.regularizers import RegularizerWeights
from ebjepa_mini.nets import BasicBlock, CIFARResNet18, ConvEncoder, cifar_resnet18, count_parameters, projector
from ebjepa_mini.regularizers import two_view_loss


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# -------------------------------------------------------------------------------- ResNet-18
@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    return cifar_resnet18().eval()


def test_cifar_resnet18_output_and_stem_padding(resnet):
    shapes = {}

    def record(module, inputs, output):         # returns None: observe, do not replace the output
        shapes["stem"] = tuple(output.shape)

    hook = resnet.stem[0].register_forward_hook(record)
    try:
        x = torch.rand(2, 3, 32, 32, generator=gen(0))
        with torch.no_grad():
            h = resnet(x)
    finally:
        hook.remove()
    assert h.shape == (2, 512)
    assert shapes["stem"] == (2, 64, 34, 34)           # 3x3 conv, stride 1, padding 2: 32 -> 34
    assert (h >= 0).all() and h.abs().sum() > 0         # ReLU then global average pool
    assert not torch.allclose(h[0], h[1])               # different images, different features
    assert resnet.out_dim == 512


def test_cifar_resnet18_parameter_count(resnet):
    n = count_parameters(resnet)
    assert abs(n - 11.2e6) / 11.2e6 < 0.02
    assert n == sum(p.numel() for p in resnet.parameters())
    # no ImageNet stem: no max-pool, no 7x7 stride-2 conv, no classifier
    assert not any(isinstance(m, (nn.MaxPool2d, nn.Linear)) for m in resnet.modules())
    conv = resnet.stem[0]
    assert conv.kernel_size == (3, 3) and conv.stride == (1, 1) and conv.padding == (2, 2)
    assert sum(isinstance(m, BasicBlock) for m in resnet.modules()) == 8


def test_cifar_resnet18_eval_is_per_sample(resnet):
    x = torch.rand(3, 3, 32, 32, generator=gen(1))
    with torch.no_grad():
        full = resnet(x)
        single = resnet(x[1:2])
    torch.testing.assert_close(full[1:2], single, atol=1e-5, rtol=1e-4)


def test_basic_block_shortcut():
    same = BasicBlock(8, 8, 1)
    down = BasicBlock(8, 16, 2)
    assert isinstance(same.shortcut, nn.Identity)
    assert not isinstance(down.shortcut, nn.Identity)
    x = torch.randn(2, 8, 10, 10)
    assert same(x).shape == (2, 8, 10, 10) and down(x).shape == (2, 16, 5, 5)
    assert (down(x) >= 0).all()


def test_resnet_small_widths_custom_channels():
    net = CIFARResNet18(in_channels=1, widths=(4, 8, 8, 16))
    assert net(torch.rand(2, 1, 28, 28)).shape == (2, 16)


# ------------------------------------------------------------------------------- ConvEncoder
def test_conv_encoder_shapes_and_feature_maps():
    enc = ConvEncoder(1, (32, 64, 64), (2, 2, 1))
    maps: list[tuple] = []

    def record(module, inputs, output):
        maps.append(tuple(output.shape[-2:]))

    hooks = [m.register_forward_hook(record)
             for m in enc.features if isinstance(m, nn.Conv2d)]
    h = enc(torch.rand(4, 1, 28, 28, generator=gen(2)))
    for hk in hooks:
        hk.remove()
    assert h.shape == (4, 64) and enc.out_dim == 64
    assert maps == [(14, 14), (7, 7), (7, 7)]
    rgb = ConvEncoder(3, (32, 64, 64, 128, 256), (1, 2, 1, 2, 2))
    assert rgb(torch.rand(2, 3, 32, 32)).shape == (2, 256)
    assert count_parameters(rgb) == pytest.approx(0.43e6, rel=0.05)


def test_conv_encoder_parameter_count_hand_computed():
    # conv 1->32 (288) + BN (64) + conv 32->64 (18432) + BN (128) + conv 64->64 (36864) + BN (128)
    assert count_parameters(ConvEncoder(1, (32, 64, 64), (2, 2, 1))) == 55_904


def test_conv_encoder_bad_arguments():
    with pytest.raises(ValueError, match="channels and strides"):
        ConvEncoder(1, (32, 64), (2,))
    with pytest.raises(ValueError, match="channels and strides"):
        ConvEncoder(1, (), ())


# ---------------------------------------------------------------------------------- projector
def test_projector_identity():
    x = torch.randn(5, 7)
    for p in (projector(7, None, 3), projector(7, 16, 3, layers=0)):
        assert isinstance(p, nn.Identity)
        assert torch.equal(p(x), x)


def test_projector_structure():
    p = projector(16, 32, 8, layers=3)
    linears = [m for m in p if isinstance(m, nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(16, 32), (32, 32), (32, 8)]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in p) == 2
    assert isinstance(p[-1], nn.Linear)                     # no normalisation after the last layer
    assert p(torch.randn(4, 16)).shape == (4, 8)
    q = projector(16, 32, 8, layers=2, batch_norm=False)
    assert not any(isinstance(m, nn.BatchNorm1d) for m in q)
    assert [(l.in_features, l.out_features) for l in q if isinstance(l, nn.Linear)] == [(16, 32), (32, 8)]
    one = projector(16, 32, 8, layers=1)
    assert isinstance(one[0], nn.Linear) and len(one) == 1 and one[0].in_features == 16


def test_projector_bad_arguments():
    with pytest.raises(ValueError, match="layers"):
        projector(16, 32, 8, layers=-1)
    with pytest.raises(ValueError, match="out_dim"):
        projector(16, 32, 0)


# ------------------------------------------------------------------------- RegularizerWeights
@pytest.mark.parametrize("kwargs,label", [({}, "none"), ({"variance": 1.0}, "variance"),
                                          ({"variance": 1, "covariance": 80}, "vicreg"),
                                          ({"sigreg": 10.0}, "sigreg"), ({"covariance": 5.0}, "covariance"),
                                          ({"variance": 0.0, "covariance": 0.0, "invariance": 3.0}, "none")])
def test_regularizer_weights_labels(kwargs, label):
    assert RegularizerWeights(**kwargs).label == label


def test_regularizer_weights_defaults_and_validation():
    w = RegularizerWeights()
    assert (w.invariance, w.variance, w.covariance, w.sigreg) == (1.0, 0.0, 0.0, 0.0)
    for name in ("invariance", "variance", "covariance", "sigreg"):
        with pytest.raises(ValueError, match=name):
            RegularizerWeights(**{name: -1.0})
    with pytest.raises(ValueError, match="variance"):
        RegularizerWeights(variance=True)
    with pytest.raises(ValueError, match="sigreg"):
        RegularizerWeights(sigreg="10")


# --------------------------------------------------------------------------------- ImageJEPA
def test_image_jepa_loss_matches_two_view_loss_on_projections():
    torch.manual_seed(1)
    enc, proj = nn.Linear(10, 8), nn.Linear(8, 6)
    model = ImageJEPA(enc, proj)
    v1, v2 = torch.randn(16, 10, generator=gen(5)), torch.randn(16, 10, generator=gen(6))
    w = RegularizerWeights(variance=1.0, covariance=80.0, sigreg=2.0)
    total, terms = model.loss(v1, v2, w, num_slices=8, generator=gen(9))
    ref, ref_terms = two_view_loss(proj(enc(v1)), proj(enc(v2)), invariance=1.0, variance=1.0, covariance=80.0,
                                   sigreg=2.0, num_slices=8, generator=gen(9))
    assert total.item() == pytest.approx(ref.item(), rel=1e-5)
    assert terms == pytest.approx(ref_terms, rel=1e-5)
    total.backward()
    assert enc.weight.grad is not None and enc.weight.grad.abs().sum() > 0


def test_image_jepa_embed_batches_and_restores_mode():
    torch.manual_seed(2)
    model = ImageJEPA(ConvEncoder(1, (4, 8), (2, 2)), projector(8, 16, 5, layers=2))
    model.train()
    x = torch.rand(7, 1, 12, 12, generator=gen(7))
    z = model.embed(x, batch_size=3)
    assert model.training
    assert z.shape == (7, 5) and not z.requires_grad
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(z, model(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(model.embed(x, projected=False), model.encoder(x), atol=1e-5, rtol=1e-5)


def test_regularizer_weights_rejects_nan():
    with pytest.raises(ValueError, match="variance"):
        RegularizerWeights(variance=float("nan"))
