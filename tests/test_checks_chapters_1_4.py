"""The exercise checks added for chapters 1 and 4 accept a correct answer and reject the typical wrong ones."""
import math

import pytest
import torch

from ebjepa_mini import checks
from ebjepa_mini.rollout import rollout, teacher_forced


def test_check_cold_enough_accepts_the_bound_and_rejects_a_warmer_beta(capsys):
    bound, gap = checks.check_cold_enough(100 * math.log(36), n_latent=36)
    assert "Correct!" in capsys.readouterr().out
    assert 0 <= gap <= bound + 1e-9                       # the measured gap never exceeds the bound
    with pytest.raises(AssertionError, match="exceeds"):
        checks.check_cold_enough(100.0, n_latent=36)


def _drift(pick):
    def fn(model, x, order):
        with torch.no_grad():
            z = model.encoder(x)
            return pick(model, z, order)
    return fn


def test_check_rollout_drift_accepts_the_last_frame_error(capsys):
    checks.check_rollout_drift(_drift(lambda m, z, k: (rollout(m.predictor, z, k)[-1][:, -1] - z[:, -1]).pow(2).mean()))
    assert "Correct!" in capsys.readouterr().out


@pytest.mark.parametrize("pick, hint", [
    (lambda m, z, k: (rollout(m.predictor, z, k)[-1] - z).pow(2).mean(), "all frames"),
    (lambda m, z, k: (teacher_forced(m.predictor, z)[:, -1] - z[:, -1]).pow(2).mean(), "teacher-forced"),
])
def test_check_rollout_drift_rejects_typical_mistakes(pick, hint):
    with pytest.raises(AssertionError, match=hint):
        checks.check_rollout_drift(_drift(pick))
