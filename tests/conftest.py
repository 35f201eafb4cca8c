"""Shared pytest set-up: small, deterministic, CPU-friendly defaults for every test.

* ``EBJEPA_PRESET`` defaults to ``ci`` (the smallest budget) unless already set.
* torch uses 2 threads (CI has 2 cores shared with other jobs).
* matplotlib draws off-screen.
"""
import os

os.environ.setdefault("EBJEPA_PRESET", "ci")
os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402  (after the environment is set)

torch.set_num_threads(2)
