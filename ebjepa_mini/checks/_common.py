"""Private helpers of :mod:`ebjepa_mini.checks`: the type check and the "Correct!" line every check prints."""
from __future__ import annotations

import torch


def _as_tensor(value, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{what} should return a torch.Tensor, got {type(value).__name__}.")
    return value


def _correct(message: str) -> None:
    print(f"Correct! {message}")
