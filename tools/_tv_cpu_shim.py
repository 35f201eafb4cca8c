"""Import hook that lets the CUDA-linked torchvision wheel import on a CPU-only torch.

Why: torchvision 0.28.0 (the only release matching torch 2.13.0) ships only as a
CUDA build. Its compiled extension ``_C`` needs ``libtorch_cuda.so``, so it cannot be
loaded next to ``torch==2.13.0+cpu``, and ``torchvision/_meta_registrations.py``
then fails at import time with ``RuntimeError: operator torchvision::nms does not
exist`` (two of its ``register_fake`` calls are not guarded).

What: a ``sys.meta_path`` finder that does nothing until ``torchvision`` is first
imported. At that moment it

1. returns at once if the ``torchvision::nms`` operator is already defined;
2. otherwise tries to load the *real* extension ``_C`` (so on CUDA machines, macOS
   or Windows, where the extension loads, the hook changes nothing);
3. only if that fails, defines the ``nms`` / ``qnms`` operator schemas and registers
   a small pure-PyTorch CPU kernel for ``nms``.

Transforms, models, datasets and utils then work on the CPU; the other C++ ops
(``torchvision.ops.roi_align`` ...) and ``torchvision.io`` image codecs stay
unavailable and raise torchvision's own clear error.

``tools/install_tv_shim.py`` copies this file into site-packages and adds a ``.pth``
line that imports it at interpreter start (cost: one finder object; torch is not
imported until torchvision is). Set ``EBJEPA_NO_TV_SHIM=1`` to switch it off.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys

_OP_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_library = None  # keeps the torch.library.Library fragment alive
status = "inactive"  # "real-extension", "already-defined", "stub-ops" or an error text


def _nms_cpu(dets, scores, iou_threshold: float):
    """Greedy non-maximum suppression in plain PyTorch.

    Args:
        dets: boxes ``[N, 4]`` as (x1, y1, x2, y2).
        scores: ``[N]``.
        iou_threshold: boxes overlapping a kept box by IoU > threshold are dropped.

    Returns:
        int64 indices ``[K]`` of the kept boxes, by decreasing score.
    """
    import torch

    if dets.numel() == 0:
        return torch.empty(0, dtype=torch.long, device=dets.device)
    order = torch.argsort(scores, descending=True)
    boxes = dets[order].to(torch.float64)
    area = (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)
    top_left = torch.maximum(boxes[:, None, :2], boxes[None, :, :2])
    bottom_right = torch.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(dim=-1)
    over = inter / (area[:, None] + area[None, :] - inter) > iou_threshold  # NaN (0/0) -> False
    dropped = torch.zeros(len(order), dtype=torch.bool)
    kept = []
    for i in range(len(order)):
        if not dropped[i]:
            kept.append(i)
            dropped |= over[i]
    return order[torch.tensor(kept, dtype=torch.long, device=order.device)]


def _extension_path():
    """Path of torchvision's compiled ``_C`` extension, or None (found without importing torchvision)."""
    spec = importlib.machinery.PathFinder.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return None
    pkg_dir = list(spec.submodule_search_locations)[0]
    finder = importlib.machinery.FileFinder(
        pkg_dir, (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES))
    ext = finder.find_spec("_C")
    return ext.origin if ext is not None else None


def _op_defined(torch) -> bool:
    try:
        torch.ops.torchvision.nms.default
        return True
    except (AttributeError, RuntimeError):
        return False


def ensure_ops() -> str:
    """Make ``torchvision::nms`` exist: real extension first, CPU stubs otherwise. Returns the status."""
    global _library, status
    import torch

    if _op_defined(torch):
        status = "already-defined"
        return status
    path = _extension_path()
    if path is not None:
        try:
            torch.ops.load_library(path)
            status = "real-extension"
            return status
        except (OSError, ImportError, RuntimeError):
            pass  # CUDA-linked extension on a CPU-only torch: fall through to the stubs
    lib = torch.library.Library("torchvision", "FRAGMENT")
    for schema in _OP_SCHEMAS:
        lib.define(schema)
    lib.impl("nms", _nms_cpu, "CPU")
    _library = lib
    status = "stub-ops"
    return status


class _TorchvisionFinder(importlib.abc.MetaPathFinder):
    """Runs :func:`ensure_ops` once, just before ``torchvision`` itself is imported."""

    def find_spec(self, name, path=None, target=None):
        if name == "torchvision":
            global status
            sys.meta_path.remove(self)
            try:
                ensure_ops()
            except Exception as exc:  # never break the interpreter; torchvision reports its own error
                status = f"{type(exc).__name__}: {exc}"
                print(f"[_tv_cpu_shim] could not prepare torchvision ops: {status}", file=sys.stderr)
        return None  # let the normal finders import torchvision


def install() -> None:
    """Register the finder (idempotent; does nothing if torchvision is already imported)."""
    if os.environ.get("EBJEPA_NO_TV_SHIM") == "1" or "torchvision" in sys.modules:
        return
    if not any(isinstance(f, _TorchvisionFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _TorchvisionFinder())


install()
