"""Moving MNIST, generated: bouncing digits with exact 8x8 digit-location maps (chapter 4).

The standard recipe of Srivastava et al. (2015): ``n_digits`` MNIST digits (2 by default) move
in straight lines inside a square canvas (64x64 by default), each with a random direction and
a fixed speed, and bounce off the borders; a frame is the pixel-wise maximum of the digits.
The EB-JEPA reference code (see :doc:`/book/paper_and_book`) reads the fixed test file ``mnist_test_seq.npy`` (10,000
sequences of 20 frames); this module *generates* such sequences from the MNIST digits in
``$EBJEPA_DATA/mnist.npz``, so any number of them, at any canvas size, deterministic by seed,
vectorised over sequences (thousands of clips per second on one CPU core).

Because the generator knows where every digit is, the 8x8 detection targets of the reference are
computed exactly from the positions: the centre of each digit's ink bounding box (pixels above
half of the maximum intensity, like the reference's threshold at ``(min + max) / 2``) falls in
one cell of an 8x8 grid, which is set to 1. The reference instead thresholds each frame and
takes OpenCV contours, so two overlapping digits can merge into one box there; here they
always give one cell each (possibly the same cell).

Splits are by *sequence*, as in the reference: a 20-frame sequence is cut into two 10-frame clips
only after the split, so the two halves of a sequence never land on different sides. The
generated train and validation sequences additionally use different digit images (MNIST train
vs test set).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .sources import load_mnist

__all__ = ["MovingMNISTClips", "generate_moving_mnist", "resize_digits", "location_maps", "cut_clips",
           "split_by_sequence", "maps_from_frames", "MovingMNIST", "GRID"]

#: Side of the detection grid: an 8x8 map per frame, as in the reference.
GRID = 8


@dataclass
class MovingMNISTClips:
    """Sequences of bouncing digits and everything the generator knows about them.

    Fields (NumPy arrays):

    * ``frames``: ``uint8 [N, T, L, L]`` pixel frames (0 background, 255 ink).
    * ``maps``: ``uint8 [N, T, 8, 8]`` digit-location maps (1 where a digit's box centre lies).
    * ``positions``: ``float32 [N, T, n_digits, 2]`` top-left corner (row, col) of each digit's
      square patch, before rounding to whole pixels.
    * ``velocities``: ``float32 [N, T, n_digits, 2]`` velocity (row, col) in pixels per frame with
      which the digit leaves frame t (a bounce on the way to frame t + 1 flips the velocity of
      frame t + 1).
    * ``centers``: ``float32 [N, T, n_digits, 2]`` centre (row, col) of each digit's ink box in pixels.
    * ``digit_ids``: ``int64 [N, n_digits]`` index of each digit image in the source array.
    * ``labels``: ``int64 [N, n_digits]`` MNIST class of each digit (``-1`` when unknown).
    """

    frames: np.ndarray
    maps: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    centers: np.ndarray
    digit_ids: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        n, t, h, w = self.frames.shape
        return f"MovingMNISTClips({n} sequences x {t} frames of {h}x{w}, {self.positions.shape[2]} digits)"


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def resize_digits(digits: np.ndarray, size: int) -> np.ndarray:
    """Resize square uint8 digit images ``[M, s, s]`` to ``[M, size, size]`` (area averaging).

    Used to keep the digit-to-canvas ratio of the 64x64 recipe (28 px digits) on a smaller
    canvas, e.g. 14 px digits on 32x32.

    Args:
        digits: ``uint8 [M, s, s]``.
        size: output side in pixels, ``>= 1``.
    """
    size = _check_int(size, "size", 1)
    if not isinstance(digits, np.ndarray) or digits.ndim != 3 or digits.shape[1] != digits.shape[2]:
        raise ValueError(f"digits must be a numpy array [M, s, s] of square images, got "
                         f"{getattr(digits, 'shape', type(digits).__name__)}")
    if size == digits.shape[1]:
        return digits
    x = torch.as_tensor(digits, dtype=torch.float32).unsqueeze(1)
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="area" if size < digits.shape[1] else "bilinear")
    return x.squeeze(1).round().clamp(0, 255).to(torch.uint8).numpy()


def _ink_boxes(digits: np.ndarray) -> np.ndarray:
    """Centre offset (row, col) of each digit's ink box (pixels > max/2) inside its patch: ``[M, 2]``."""
    thr = digits.reshape(len(digits), -1).max(1) / 2.0
    ink = digits > thr[:, None, None]
    rows, cols = ink.any(2), ink.any(1)                   # [M, s]
    s = digits.shape[1]
    out = np.zeros((len(digits), 2), np.float32)
    for k, m in enumerate((rows, cols)):
        first = np.where(m.any(1), np.argmax(m, 1), 0)
        last = np.where(m.any(1), s - 1 - np.argmax(m[:, ::-1], 1), s - 1)
        out[:, k] = (first + last + 1) / 2.0              # box [first, last] inclusive: centre = first + width / 2
    return out


def location_maps(centers: np.ndarray, canvas: int, grid: int = GRID) -> np.ndarray:
    """8x8 digit-location maps from digit centres, exactly.

    A centre ``(r, c)`` in pixels marks cell ``(floor(grid * r / canvas), floor(grid * c / canvas))``.

    Args:
        centers: ``[..., n_digits, 2]`` centres (row, col) in pixels.
        canvas: canvas side ``L`` in pixels.
        grid: map side (8 in EB-JEPA).

    Returns:
        ``uint8 [..., grid, grid]`` binary maps.
    """
    centers = np.asarray(centers, dtype=np.float64)
    lead = centers.shape[:-2]
    cells = np.clip(np.floor(grid * centers / canvas).astype(np.int64), 0, grid - 1)
    maps = np.zeros((int(np.prod(lead, dtype=np.int64)), grid * grid), np.uint8)
    flat = (cells[..., 0] * grid + cells[..., 1]).reshape(len(maps), -1)
    np.put_along_axis(maps, flat, 1, axis=1)
    return maps.reshape(*lead, grid, grid)


def generate_moving_mnist(digits: np.ndarray, n_sequences: int, n_frames: int = 20, canvas: int = 64,
                          n_digits: int = 2, speed: float | None = None, seed: int = 0,
                          labels: np.ndarray | None = None, chunk: int = 512) -> MovingMNISTClips:
    """Generate bouncing-digit sequences (Srivastava et al. 2015 recipe), vectorised and seeded.

    Each digit starts at a uniform random position with its patch inside the canvas and moves with
    a uniform random direction at a constant ``speed``; when its patch would leave the canvas, the
    position is mirrored at the border and the velocity component flips, so the speed never
    changes. Frames are the pixel-wise maximum of the digits placed at whole-pixel positions.

    Args:
        digits: ``uint8 [M, s, s]`` digit images (``s <= canvas``), e.g. MNIST ``x_train``.
        n_sequences: number of sequences N, ``>= 1``.
        n_frames: frames per sequence T (20 in the standard data set).
        canvas: canvas side L in pixels (64 in the standard data set).
        n_digits: digits per sequence (2 in the standard data set).
        speed: pixels per frame; default ``0.1 * (L - s)`` (3.6 px at L = 64, s = 28, as in the
            original generator, whose step is 0.1 of the free range).
        seed: the same seed gives the same sequences.
        labels: optional ``[M]`` digit classes, copied into the result.
        chunk: sequences rendered at once (memory only; the result does not depend on it).

    Returns:
        A :class:`MovingMNISTClips` with frames, exact 8x8 maps, positions, velocities and centres.

    Raises:
        ValueError: for a bad argument (named in the message), before any compute.
    """
    if not isinstance(digits, np.ndarray) or digits.ndim != 3 or digits.shape[1] != digits.shape[2]:
        raise ValueError(f"digits must be a numpy array [M, s, s] of square images, got "
                         f"{getattr(digits, 'shape', type(digits).__name__)}")
    if digits.dtype != np.uint8:
        raise ValueError(f"digits must be uint8 (0..255), got dtype {digits.dtype}")
    n = _check_int(n_sequences, "n_sequences", 1)
    t_len = _check_int(n_frames, "n_frames", 1)
    canvas = _check_int(canvas, "canvas", GRID)
    k = _check_int(n_digits, "n_digits", 1)
    chunk = _check_int(chunk, "chunk", 1)
    s = digits.shape[1]
    if s > canvas:
        raise ValueError(f"digits of {s} px do not fit on a canvas of {canvas} px; resize them with "
                         f"resize_digits(digits, size) with size <= canvas")
    lim = float(canvas - s)
    if speed is None:
        speed = 0.1 * lim
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not math.isfinite(speed) or speed < 0:
        raise ValueError(f"speed must be a finite number >= 0 (pixels per frame), got {speed!r}")
    if speed > lim and lim > 0:
        raise ValueError(f"speed must be <= L - s = {lim:g} pixels per frame (one bounce per step at most), "
                         f"got {speed!r}")

    rng = np.random.default_rng(seed)
    ids = rng.integers(0, len(digits), size=(n, k))
    pos = rng.uniform(0.0, lim, size=(n, k, 2))
    theta = rng.uniform(0.0, 2 * math.pi, size=(n, k))
    vel = speed * np.stack([np.sin(theta), np.cos(theta)], -1)
    positions = np.empty((n, t_len, k, 2), np.float32)
    velocities = np.empty((n, t_len, k, 2), np.float32)
    for t in range(t_len):                                     # a loop over frames only (20 steps)
        positions[:, t] = pos
        velocities[:, t] = vel
        nxt = pos + vel
        low, high = nxt < 0, nxt > lim
        nxt = np.where(low, -nxt, np.where(high, 2 * lim - nxt, nxt))   # mirror at the border
        vel = np.where(low | high, -vel, vel)                  # flip the component: |v| unchanged
        pos = nxt
    top = np.clip(np.rint(positions), 0, lim).astype(np.int64)           # whole-pixel placement
    centers = (top + _ink_boxes(digits)[ids][:, None]).astype(np.float32)
    maps = location_maps(centers, canvas)

    frames = np.zeros((n, t_len, canvas, canvas), np.uint8)
    ar = np.arange(s)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        sub = frames[a:b]
        si = np.arange(b - a)[:, None, None, None]
        ti = np.arange(t_len)[None, :, None, None]
        for d in range(k):                                   # one digit at a time: indices within it are unique
            rows = top[a:b, :, d, 0][:, :, None, None] + ar[None, None, :, None]
            cols = top[a:b, :, d, 1][:, :, None, None] + ar[None, None, None, :]
            patch = digits[ids[a:b, d]][:, None]              # [n, 1, s, s], broadcast over time
            sub[si, ti, rows, cols] = np.maximum(sub[si, ti, rows, cols], patch)
    lab = labels[ids].astype(np.int64) if labels is not None else np.full((n, k), -1, np.int64)
    return MovingMNISTClips(frames, maps, positions, velocities, centers, ids.astype(np.int64), lab)


def cut_clips(clips: MovingMNISTClips, clip_len: int) -> MovingMNISTClips:
    """Cut every sequence into ``T // clip_len`` consecutive clips (the reference cuts 20 -> 2 x 10).

    Call this *after* splitting by sequence, so the clips of one sequence stay on one side.
    """
    clip_len = _check_int(clip_len, "clip_len", 1)
    n, t_len = clips.frames.shape[:2]
    if clip_len > t_len:
        raise ValueError(f"clip_len must be <= the sequence length {t_len}, got {clip_len}")
    m = t_len // clip_len

    def cut(a):
        a = a[:, :m * clip_len]
        return a.reshape(n * m, clip_len, *a.shape[2:])

    return MovingMNISTClips(cut(clips.frames), cut(clips.maps), cut(clips.positions), cut(clips.velocities),
                            cut(clips.centers), np.repeat(clips.digit_ids, m, 0), np.repeat(clips.labels, m, 0))


def split_by_sequence(n_sequences: int, n_val: int, seed: int = 2025) -> tuple[np.ndarray, np.ndarray]:
    """The reference split, by sequence before the clips are cut: permute sequence indices with
    ``numpy.random.RandomState(seed)``; the first ``n_val`` are validation, the rest training.

    Returns:
        ``(train_idx, val_idx)`` int arrays of sequence indices.
    """
    n_sequences = _check_int(n_sequences, "n_sequences", 1)
    n_val = _check_int(n_val, "n_val", 0)
    if n_val > n_sequences:
        raise ValueError(f"n_val must be <= n_sequences = {n_sequences}, got {n_val}")
    perm = np.random.RandomState(seed).permutation(n_sequences)
    return perm[n_val:], perm[:n_val]


def maps_from_frames(frames: np.ndarray, grid: int = GRID) -> np.ndarray:
    """Approximate 8x8 maps from pixels, the reference's way (for frames without known positions).

    Like the reference: threshold each frame at ``(min + max) / 2``, take the bounding box of each
    connected blob (scipy's 8-connected labelling instead of OpenCV contours) and mark the cell of
    its centre. Overlapping digits merge into one blob. Slow (a Python loop over frames).

    Args:
        frames: ``uint8 [..., L, L]``.
    """
    from scipy import ndimage

    frames = np.asarray(frames)
    lead, side = frames.shape[:-2], frames.shape[-1]
    flat = frames.reshape(-1, side, side)
    out = np.zeros((len(flat), grid, grid), np.uint8)
    for i, f in enumerate(flat):
        lo, hi = int(f.min()), int(f.max())
        if hi == lo:
            continue
        lab, _ = ndimage.label(f > (lo + hi) / 2, structure=np.ones((3, 3)))
        for sl in ndimage.find_objects(lab):
            r = (sl[0].start + sl[0].stop) / 2.0
            c = (sl[1].start + sl[1].stop) / 2.0
            out[i, min(grid - 1, int(grid * r / side)), min(grid - 1, int(grid * c / side))] = 1
    return out.reshape(*lead, grid, grid)


class MovingMNIST:
    """Generated train / validation clips for the video JEPA (chapter 4).

    Train sequences bounce MNIST *training* digits, validation sequences MNIST *test* digits,
    generated with different seeds; each ``seq_len``-frame sequence is then cut into clips of
    ``clip_len`` frames (20 -> 2 x 10 as in the reference).

    Args:
        n_train: training clips wanted (rounded up to whole sequences).
        n_val: validation clips wanted (rounded up to whole sequences).
        canvas: canvas side L (64 in the paper; 32 in the small presets).
        clip_len: frames per clip T (10 in the paper).
        seq_len: frames per generated sequence (20 in the paper).
        n_digits: digits per sequence (2).
        seed: generation seed (train uses ``seed``, validation ``seed + 1``).
        allow_fallback: without ``mnist.npz``, bounce the labelled scikit-learn fallback digits.

    Attributes:
        train: the training clips, a :class:`MovingMNISTClips`.
        val: the validation clips, a :class:`MovingMNISTClips`.
        source: where the digits came from.
    """

    def __init__(self, n_train: int = 2_000, n_val: int = 256, canvas: int = 64, clip_len: int = 10,
                 seq_len: int = 20, n_digits: int = 2, seed: int = 0, allow_fallback: bool = True):
        _check_int(n_train, "n_train", 1)
        _check_int(n_val, "n_val", 1)
        canvas = _check_int(canvas, "canvas", GRID)
        clip_len = _check_int(clip_len, "clip_len", 3)
        seq_len = _check_int(seq_len, "seq_len", clip_len)
        data = load_mnist(allow_fallback=allow_fallback)
        self.source = data.source
        self.is_fallback = data.is_fallback
        digit_px = max(1, min(canvas, round(28 * canvas / 64)))      # keep the 28/64 digit-to-canvas ratio
        per_seq = seq_len // clip_len
        self.canvas, self.clip_len, self.digit_px = canvas, clip_len, digit_px
        parts = {}
        for name, n, x, y, s in (("train", n_train, data.x_train, data.y_train, seed),
                                 ("val", n_val, data.x_test, data.y_test, seed + 1)):
            seqs = generate_moving_mnist(resize_digits(x, digit_px), -(-n // per_seq), seq_len, canvas,
                                         n_digits, seed=s, labels=y)
            clips = cut_clips(seqs, clip_len)
            parts[name] = MovingMNISTClips(*(a[:n] for a in (clips.frames, clips.maps, clips.positions,
                                                              clips.velocities, clips.centers, clips.digit_ids,
                                                              clips.labels)))
        self.train, self.val = parts["train"], parts["val"]

    def __repr__(self) -> str:
        return (f"MovingMNIST(train={len(self.train)} clips, val={len(self.val)} clips, {self.clip_len} frames of "
                f"{self.canvas}x{self.canvas}, digits {self.digit_px} px, source={self.source!r})")

    @staticmethod
    def to_tensor(frames: np.ndarray, device="cpu") -> torch.Tensor:
        """``uint8 [N, T, L, L]`` -> ``float [N, T, 1, L, L]`` in ``[0, 1]`` (the reference's only preprocessing).

        Time is at dim 1 as everywhere in :mod:`ebjepa_mini.video` (the reference: ``[N, 1, T, L, L]``).
        """
        return torch.as_tensor(np.asarray(frames), device=device).unsqueeze(2).float().div_(255.0)
