"""Batched view augmentations (chapters 2-3): exact identities at the degenerate settings, flips,
seeding, value ranges, and the MNIST pipeline's shape and normalisation."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ebjepa_mini.data import views as V


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def images():
    return torch.rand(6, 3, 16, 16, generator=gen(0))


# ------------------------------------------------------------------------------------ crops
def test_full_crop_without_flip_is_identity(images):
    out = V.random_resized_crop(images, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip_p=0.0, generator=gen(1))
    assert out.shape == images.shape
    torch.testing.assert_close(out, images, atol=1e-5, rtol=0)


def test_full_crop_with_flip_is_horizontal_flip(images):
    out = V.random_resized_crop(images, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip_p=1.0, generator=gen(1))
    torch.testing.assert_close(out, images.flip(-1), atol=1e-5, rtol=0)
    assert not torch.allclose(out, images, atol=1e-2)


def test_crop_seeded_and_in_range(images):
    a = V.random_resized_crop(images, generator=gen(5))
    b = V.random_resized_crop(images, generator=gen(5))
    c = V.random_resized_crop(images, generator=gen(6))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    assert a.shape == images.shape
    # bilinear resampling with reflection padding: convex combinations of input pixels
    assert a.min() >= images.min() - 1e-6 and a.max() <= images.max() + 1e-6
    # a real crop zooms in: not the identity for (almost) every image
    assert (a - images).abs().flatten(1).max(dim=1).values.min() > 1e-3


def test_crop_zooms_into_a_region():
    # left half black, right half white; a half-width crop sees mostly one colour
    x = torch.zeros(64, 1, 32, 32)
    x[..., 16:] = 1.0
    out = V.random_resized_crop(x, scale=(0.25, 0.25), ratio=(1.0, 1.0), flip_p=0.0, generator=gen(2))
    means = out.mean(dim=(1, 2, 3))
    full = V.random_resized_crop(x, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip_p=0.0, generator=gen(2))
    assert full.mean(dim=(1, 2, 3)) == pytest.approx(0.5, abs=1e-5)
    assert means.std() > 0.1                     # crops at different places see different halves
    # rows are untouched by a horizontal structure: every row of a crop is identical
    torch.testing.assert_close(out, out[:, :, :1, :].expand_as(out))


# ---------------------------------------------------------------------------------- colour
def test_color_jitter_p0_is_identity(images):
    assert torch.equal(V.color_jitter(images, p=0.0, generator=gen(3)), images)


def test_color_jitter_stays_in_unit_range_and_changes_images(images):
    out = V.color_jitter(images, brightness=0.9, contrast=0.9, saturation=0.9, p=1.0, generator=gen(4))
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert not torch.allclose(out, images)
    assert torch.equal(out, V.color_jitter(images, 0.9, 0.9, 0.9, 1.0, generator=gen(4)))


def test_brightness_only_scales_each_image():
    x = 0.1 + 0.4 * torch.rand(5, 3, 8, 8, generator=gen(5))         # <= 0.5: factor <= 1.4 never clips
    out = V.color_jitter(x, brightness=0.4, contrast=0.0, saturation=0.0, p=1.0, generator=gen(6))
    ratio = out / x
    per_image = ratio.flatten(1)
    torch.testing.assert_close(per_image, per_image[:, :1].expand_as(per_image), atol=1e-5, rtol=1e-5)
    f = per_image[:, 0]
    assert ((f >= 0.6 - 1e-6) & (f <= 1.4 + 1e-6)).all()
    assert f.std() > 0.01                                           # each image its own factor


def test_random_grayscale(images):
    g = V.random_grayscale(images, p=1.0, generator=gen(7))
    assert torch.equal(g[:, 0], g[:, 1]) and torch.equal(g[:, 1], g[:, 2])
    luma = 0.299 * images[:, 0] + 0.587 * images[:, 1] + 0.114 * images[:, 2]
    torch.testing.assert_close(g[:, 0], luma)
    assert torch.equal(V.random_grayscale(images, p=0.0, generator=gen(7)), images)
    grey = images[:, :1]
    assert torch.equal(V.random_grayscale(grey, p=1.0), grey)        # one channel: unchanged


def test_random_solarize_inverts_only_bright_pixels():
    x = torch.tensor([0.0, 0.2, 0.39, 0.4, 0.7, 1.0]).view(1, 1, 1, 6).repeat(3, 1, 1, 1)
    out = V.random_solarize(x, threshold=0.4, p=1.0, generator=gen(8))
    expected = torch.tensor([0.0, 0.2, 0.39, 0.6, 0.3, 0.0]).view(1, 1, 1, 6).expand(3, 1, 1, 6)
    torch.testing.assert_close(out, expected)
    assert torch.equal(V.random_solarize(x, threshold=0.4, p=0.0, generator=gen(8)), x)


def test_bernoulli_probability_is_per_image():
    x = torch.ones(400, 1, 2, 2)
    out = V.random_solarize(x, threshold=0.5, p=0.3, generator=gen(9))
    flipped = (out[:, 0, 0, 0] == 0).float()
    assert torch.equal(out, out[:, :, :1, :1].expand_as(out))       # all or nothing per image
    assert flipped.mean().item() == pytest.approx(0.3, abs=0.07)


# --------------------------------------------------------------------------------- pipeline
def test_normalize():
    x = torch.rand(2, 3, 4, 4, generator=gen(10))
    out = V.normalize(x, (0.5, 0.4, 0.3), (0.2, 0.1, 0.5))
    torch.testing.assert_close(out[:, 1], (x[:, 1] - 0.4) / 0.1)


def test_mnist_views_shape_and_normalisation():
    x = torch.rand(8, 1, 28, 28, generator=gen(11))
    v = V.MNIST_VIEWS(x, gen(12))
    assert v.shape == (8, 1, 28, 28) and v.dtype == torch.float32
    assert V.MNIST_VIEWS.flip_p == 0.0
    torch.testing.assert_close(V.MNIST_VIEWS.standardize(x), (x - 0.1307) / 0.3081)
    # values come from [0, 1] images, then standardised with the MNIST mean / std
    lo, hi = (0 - 0.1307) / 0.3081, (1 - 0.1307) / 0.3081
    assert v.min() >= lo - 1e-5 and v.max() <= hi + 1e-5
    # a black image stays black through crops and jitter: exactly the standardised 0
    black = V.MNIST_VIEWS(torch.zeros(4, 1, 28, 28), gen(13))
    torch.testing.assert_close(black, torch.full_like(black, lo))


def test_view_augment_seeded_two_views_differ():
    x = torch.rand(4, 3, 32, 32, generator=gen(14))
    aug = V.ViewAugment()
    assert torch.equal(aug(x, gen(15)), aug(x, gen(15)))
    v1, v2 = V.two_views(x, aug, gen(16))
    assert v1.shape == v2.shape == x.shape
    assert not torch.allclose(v1, v2)
    with pytest.raises(ValueError, match=r"\bx\b.*\[B, C, H, W\]"):
        aug(torch.rand(3, 32, 32))


def test_to_float_images():
    grey = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    out = V.to_float_images(grey)
    assert out.shape == (2, 1, 3, 4) and out.dtype == torch.float32
    torch.testing.assert_close(out[1, 0], torch.as_tensor(grey[1], dtype=torch.float32) / 255)
    colour = np.zeros((2, 3, 4, 3), dtype=np.uint8)
    colour[..., 2] = 255
    out = V.to_float_images(colour)
    assert out.shape == (2, 3, 3, 4)
    assert torch.equal(out[:, 2], torch.ones(2, 3, 4)) and torch.equal(out[:, :2], torch.zeros(2, 2, 3, 4))
    with pytest.raises(ValueError, match="x_uint8"):
        V.to_float_images(np.zeros((4, 4), dtype=np.uint8))
