"""Video JEPA (chapter 4): shapes, the K-step rollout feeding its own predictions, the loss, AP."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from ebjepa_mini.metrics import average_precision_by_horizon
from ebjepa_mini.nets import DetectionHead, PairPredictor, PixelDecoder, ResNet5
from ebjepa_mini.presets import VideoSettings, get_preset
from ebjepa_mini.rollout import prediction_orders, rollout, teacher_forced
from ebjepa_mini.video import VideoExperiment, VideoJEPA, positions, video_jepa_loss

TINY = VideoSettings(canvas=16, enc_width=4, pred_width=4, latent_dim=4, proj_hidden=8, proj_dim=8, batch_size=4,
                     n_train=16, n_val=8, steps=3, head_steps=2, eval_batch=4, loss_positions=256)


def test_shapes_of_encoder_predictor_heads():
    torch.manual_seed(0)
    x = torch.rand(2, 10, 1, 16, 16)
    z = ResNet5(1, 4, 6)(x)
    assert z.shape == (2, 10, 6, 16, 16) and z.min() >= 0          # full resolution, final ReLU
    assert PairPredictor(6, 4)(z).shape == (2, 9, 6, 16, 16)
    assert DetectionHead(6)(z).shape == (2, 10, 8, 8)
    assert PixelDecoder(6)(z).shape == (2, 10, 1, 16, 16)
    assert positions(z).shape == (2 * 10 * 16 * 16, 6)
    np.testing.assert_allclose(positions(z)[0].detach(), z[0, 0, :, 0, 0].detach())


def test_rollout_shapes_and_context_frames():
    torch.manual_seed(0)
    z = torch.randn(2, 10, 3, 8, 8)
    states = rollout(PairPredictor(3, 4), z, 4)
    assert len(states) == 5 and all(s.shape == z.shape for s in states)
    for s in states[1:]:
        torch.testing.assert_close(s[:, :2], z[:, :2])               # two ground-truth context frames
    orders = prediction_orders(10, 4)
    assert orders.shape == (5, 10)
    assert orders[4].tolist() == [0, 0, 1, 2, 3, 4, 4, 4, 4, 4]
    assert orders[1].tolist() == [0, 0] + [1] * 8


class Recorder(nn.Module):
    """A predictor that records its inputs and returns a known function of them."""

    def __init__(self):
        super().__init__()
        self.inputs = []

    def forward(self, z):
        self.inputs.append(z.detach().clone())
        return z[:, 1:] * 2 + 1                                   # "prediction" of frame t+1 from (t-1, t)


def test_k_step_rollout_feeds_its_own_predictions():
    z = torch.randn(1, 6, 2, 4, 4)
    rec = Recorder()
    states = rollout(rec, z, 3)
    assert len(rec.inputs) == 3
    torch.testing.assert_close(rec.inputs[0], z[:, :-1])             # step 1 sees ground truth only
    # step 2 sees step 1's prediction of frame 2, not the true frame 2
    torch.testing.assert_close(rec.inputs[1][:, 2], states[1][:, 2])
    assert not torch.allclose(rec.inputs[1][:, 2], z[:, 2])
    torch.testing.assert_close(states[1][:, 2], z[:, 1] * 2 + 1)
    torch.testing.assert_close(states[2][:, 3], states[1][:, 2] * 2 + 1)   # order 2 = g(g(.))
    # teacher forcing never does: its inputs are the true frames
    torch.testing.assert_close(teacher_forced(rec, z), states[1][:, 2:])


def test_changing_the_predictor_changes_step_two_inputs_and_gradients_flow_through_rollout():
    torch.manual_seed(0)
    z = torch.randn(2, 6, 3, 8, 8)
    pred = PairPredictor(3, 4)
    s2_before = rollout(pred, z, 2)[2].detach()
    with torch.no_grad():
        pred.unet.head.bias.add_(1.0)
    s2_after = rollout(pred, z, 2)[2].detach()
    assert not torch.allclose(s2_before[:, 3:], s2_after[:, 3:])
    # full BPTT: the step-2 loss has a gradient through the step-1 prediction
    zz = z.clone().requires_grad_(True)
    s = rollout(pred, zz, 2)
    s[1].retain_grad()
    s[2][:, 3:].pow(2).sum().backward()
    assert s[1].grad is not None and s[1].grad[:, 2].abs().sum() > 0


def test_loss_terms_and_heads_get_no_gradient_from_the_jepa_loss():
    torch.manual_seed(0)
    model = VideoJEPA(TINY)
    x = torch.rand(3, 10, 1, 16, 16)
    loss, terms, states = video_jepa_loss(model, x, 2, 10.0, 100.0, loss_positions=512)
    assert torch.isfinite(loss) and len(states) == 3
    assert {"pred", "pred_k1", "pred_k2", "variance", "covariance", "vc", "total"} <= set(terms)
    assert terms["pred"] == pytest.approx((terms["pred_k1"] + terms["pred_k2"]) / 2, rel=1e-5)   # averaged over K
    assert terms["total"] == pytest.approx(terms["pred"] + 10 * terms["variance"] + 100 * terms["covariance"],
                                           rel=1e-4)
    loss.backward()
    assert all(p.grad is not None for p in model.encoder.parameters())
    assert all(p.grad is not None for p in model.predictor.parameters())
    assert all(p.grad is None for p in model.det_head.parameters())


def test_average_precision_perfect_and_random_scorers():
    rng = np.random.default_rng(0)
    labels = (rng.random((200, 8, 8)) < 0.05).astype(np.float32)
    assert average_precision_by_horizon(torch.tensor(labels) * 3 - 1, torch.tensor(labels)) == pytest.approx(1.0)
    ap_random = average_precision_by_horizon(rng.random(labels.shape), labels)
    assert abs(ap_random - labels.mean()) < 0.02
    with pytest.raises(ValueError, match="positive"):
        average_precision_by_horizon(np.zeros((2, 8, 8)), np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="same shape"):
        average_precision_by_horizon(np.zeros((2, 8, 8)), np.ones((3, 8, 8)))


def test_experiment_trains_evaluates_and_rejects_bad_arguments():
    exp = VideoExperiment("ci", settings=TINY, device="cpu")
    run = exp.train(2)
    assert len(run.ap) == 10 - 3 and all(0 <= a <= 1 for a in run.ap)
    assert run.history["step"][-1] == TINY.steps and "pred_k2" in run.history
    assert set(run.summary()) >= {"name", "map", "ap_by_horizon", "ap_gt"}
    pics = exp.predict_clip(run, 0)
    assert pics["rollout"].shape == (10, 16, 16) and pics["heat_rollout"].shape == (10, 8, 8)
    with pytest.raises(ValueError, match="k must be"):
        exp.train(-1)
    with pytest.raises(ValueError, match="steps must be"):
        rollout(PairPredictor(4, 4), torch.zeros(1, 4, 4, 8, 8), -1)
    with pytest.raises(ValueError, match="loss_positions"):
        video_jepa_loss(run.model, torch.zeros(1, 4, 1, 16, 16), 1, loss_positions=1)
    with pytest.raises(TypeError, match="settings"):
        VideoExperiment("ci", settings=get_preset("ci").image)


def test_presets_size_the_video_chapter():
    for name in ("ci", "cpu", "gpu", "paper"):
        v = get_preset(name).video
        assert v.canvas % 8 == 0 and v.clip_len >= 7 and 1 in v.rollout_steps and 4 in v.rollout_steps
    assert get_preset("paper").video == replace(get_preset("paper").video)
    assert get_preset("paper").video.canvas == 64 and get_preset("paper").video.covariance == 100.0


def test_offline_animation_player_has_no_cdn_links_and_has_alt_text():
    """The chapter 4 animation is an HTML output (matplotlib's jshtml player): offline (no CDN links, no
    icon font) and its <img> gets alt text from viz.offline_jshtml, since cell metadata only reaches
    image outputs (the animation's own ``alt_text``, else a generic description)."""
    import re

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import animation

    from ebjepa_mini.viz import offline_jshtml

    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1], [0, 1])
    anim = animation.FuncAnimation(fig, lambda t: (line,), frames=2)
    anim.alt_text = 'A line "from" <0> to 1'
    html = offline_jshtml(anim, default_mode="loop")
    default = re.findall(r"<img\b[^>]*>", offline_jshtml(animation.FuncAnimation(fig, lambda t: (line,), frames=2)))
    plt.close(fig)
    assert "http://" not in html and "https://" not in html and "fa fa-" not in html
    assert "▶" in html and "⏸" in html
    imgs = re.findall(r"<img\b[^>]*>", html)
    assert len(imgs) == 1 and 'alt="A line &quot;from&quot; &lt;0&gt; to 1"' in imgs[0], imgs
    assert len(default) == 1 and re.search(r'alt="[^"]{20,}"', default[0]), default

