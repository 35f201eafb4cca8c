"""The exercise checks accept a correct answer and reject the typical wrong ones."""
import pytest
import torch

from ebjepa_mini import checks


def _update(sign=-1.0, elites_only=True):
    def update(samples, costs, num_elites, temperature, min_std):
        if elites_only:
            costs, idx = costs.topk(num_elites, largest=False)
            samples = samples[idx]
        w = torch.softmax(sign * (costs - costs.min()) / temperature, 0)[:, None, None]
        mean = (w * samples).sum(0)
        return mean, (w * (samples - mean) ** 2).sum(0).sqrt().clamp_min(min_std)
    return update


def test_check_mppi_update_accepts_the_package_update(capsys):
    checks.check_mppi_update(_update())
    assert "Correct!" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [(_update(sign=1.0), "minus sign"),
                                         (_update(elites_only=False), "ALL samples")])
def test_check_mppi_update_rejects_wrong_weights(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        checks.check_mppi_update(wrong)


def test_check_mppi_update_rejects_cem_std():
    def cem_std(samples, costs, num_elites, temperature, min_std):
        mean, _ = _update()(samples, costs, num_elites, temperature, min_std)
        return mean, samples[costs.topk(num_elites, largest=False).indices].std(0)
    with pytest.raises(AssertionError, match="Std mismatch"):
        checks.check_mppi_update(cem_std)
