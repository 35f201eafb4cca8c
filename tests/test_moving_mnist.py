"""Generated Moving MNIST (chapter 4): the generator's invariants and exact labels."""
from __future__ import annotations

import numpy as np
import pytest

from ebjepa_mini.data.moving_mnist import (GRID, MovingMNIST, cut_clips, generate_moving_mnist, location_maps,
                                           maps_from_frames, resize_digits, split_by_sequence)


def _digits(n: int = 40, seed: int = 0) -> np.ndarray:
    """Synthetic 'digits': random filled rectangles of ink inside 28x28 patches (no data file needed)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        r0, c0 = rng.integers(2, 10, 2)
        r1, c1 = rng.integers(18, 26, 2)
        out[i, r0:r1, c0:c1] = rng.integers(150, 256)
    return out


DIGITS = _digits()


def test_digits_stay_inside_the_canvas():
    clips = generate_moving_mnist(DIGITS, 64, n_frames=30, canvas=64, seed=1)
    lim = 64 - 28
    assert clips.frames.shape == (64, 30, 64, 64) and clips.frames.dtype == np.uint8
    assert clips.positions.min() >= 0 and clips.positions.max() <= lim
    # every digit is drawn completely: the ink of a frame equals the ink of its digits' patches
    n_ink_patch = (DIGITS > 0).sum((1, 2))
    one = generate_moving_mnist(DIGITS, 32, n_frames=30, canvas=64, n_digits=1, seed=2)
    ink = (one.frames > 0).sum((2, 3))
    assert (ink == n_ink_patch[one.digit_ids[:, 0]][:, None]).all()


def test_bounce_preserves_speed_and_motion_is_straight_between_bounces():
    clips = generate_moving_mnist(DIGITS, 50, n_frames=40, canvas=64, speed=3.0, seed=3)
    speed = np.linalg.norm(clips.velocities, axis=-1)
    np.testing.assert_allclose(speed, 3.0, rtol=1e-5)
    flips = np.sign(clips.velocities[:, 1:]) != np.sign(clips.velocities[:, :-1])
    assert flips.any(), "40 frames at 3 px/frame on a 36 px range must bounce"
    step = clips.positions[:, 1:] - clips.positions[:, :-1]
    moving = ~flips.any(-1)                                     # no bounce between t and t + 1
    np.testing.assert_allclose(step[moving], clips.velocities[:, :-1][moving], atol=1e-4)


def test_labels_match_positions():
    clips = generate_moving_mnist(DIGITS, 40, n_frames=12, canvas=64, seed=4)
    np.testing.assert_array_equal(clips.maps, location_maps(clips.centers, 64))
    per_frame = clips.maps.sum((2, 3))
    assert per_frame.min() >= 1 and per_frame.max() <= 2
    # independent check with one digit: ink box of the thresholded frame -> cell
    one = generate_moving_mnist(DIGITS, 20, n_frames=10, canvas=64, n_digits=1, seed=5)
    for f, m in zip(one.frames.reshape(-1, 64, 64), one.maps.reshape(-1, GRID, GRID)):
        rows, cols = np.nonzero(f > f.max() / 2)
        r = (rows.min() + rows.max() + 1) / 2
        c = (cols.min() + cols.max() + 1) / 2
        want = np.zeros((GRID, GRID), np.uint8)
        want[int(GRID * r / 64), int(GRID * c / 64)] = 1
        np.testing.assert_array_equal(m, want)
    # the pixel-based labeller (for the loaded file) agrees with the exact maps for single digits
    np.testing.assert_array_equal(maps_from_frames(one.frames[:3]), one.maps[:3])


def test_same_seed_same_clips_other_seed_other_clips():
    a = generate_moving_mnist(DIGITS, 8, seed=7)
    b = generate_moving_mnist(DIGITS, 8, seed=7, chunk=3)       # rendering in chunks does not matter
    c = generate_moving_mnist(DIGITS, 8, seed=8)
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.maps, b.maps)
    assert not np.array_equal(a.frames, c.frames)


def test_split_by_sequence_keeps_halves_together():
    train_idx, val_idx = split_by_sequence(100, 10, seed=2025)
    assert len(val_idx) == 10 and len(train_idx) == 90
    assert not set(train_idx) & set(val_idx)
    np.testing.assert_array_equal(np.sort(np.concatenate([train_idx, val_idx])), np.arange(100))
    seqs = generate_moving_mnist(DIGITS, 6, n_frames=20, seed=9)
    clips = cut_clips(seqs, 10)
    assert clips.frames.shape == (12, 10, 64, 64)
    np.testing.assert_array_equal(clips.frames[1], seqs.frames[0, 10:])
    np.testing.assert_array_equal(clips.digit_ids[0], clips.digit_ids[1])


def test_small_canvas_keeps_digit_ratio():
    small = resize_digits(DIGITS, 14)
    assert small.shape == (len(DIGITS), 14, 14)
    clips = generate_moving_mnist(small, 10, canvas=32, seed=0)
    assert clips.positions.max() <= 32 - 14
    assert clips.maps.shape == (10, 20, GRID, GRID)


def test_dataset_from_mnist_file_or_fallback():
    ds = MovingMNIST(n_train=30, n_val=10, canvas=32, seed=0)
    assert ds.train.frames.shape == (30, 10, 32, 32) and ds.val.frames.shape == (10, 10, 32, 32)
    x = MovingMNIST.to_tensor(ds.val.frames)
    assert x.shape == (10, 10, 1, 32, 32) and 0 <= float(x.min()) and float(x.max()) <= 1


@pytest.mark.parametrize("kwargs, name", [({"n_sequences": 0}, "n_sequences"), ({"canvas": 16}, "digits"),
                                          ({"speed": -1.0}, "speed"), ({"n_digits": 0}, "n_digits")])
def test_bad_arguments_raise_value_error_naming_them(kwargs, name):
    args = {"digits": DIGITS, "n_sequences": 2, **kwargs}
    with pytest.raises(ValueError, match=name):
        generate_moving_mnist(**args)
