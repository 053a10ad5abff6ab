"""SpatialKLLoss is L_T of Eq. 8, checked against values computed by hand."""
import math

import pytest
import torch
import torch.nn.functional as F

import mmpose_regda  # noqa: F401
from mmpose_regda.models.losses import SpatialKLLoss
from mmpose_regda.models.utils import normalize_spatially


def logits_for(probs):
    return torch.log(torch.tensor(probs, dtype=torch.float64))


def test_hand_computed_value():
    # one keypoint on a 1 x 2 map: target [1, 1] -> P_T = [1/2, 1/2]; softmax(logits) = [1/4, 3/4]
    output = logits_for([0.25, 0.75]).reshape(1, 1, 1, 2)
    target = torch.tensor([1., 1.]).reshape(1, 1, 1, 2)
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert SpatialKLLoss()(output, target).item() == pytest.approx(expected, rel=1e-6)


def test_mean_over_batch_and_keypoints_with_weights():
    # channel 0 as above, channel 1 a perfect prediction (KL 0); weights 2 and 1; mean over B*K=2
    output = torch.stack([logits_for([0.25, 0.75]), logits_for([0.5, 0.5])]).reshape(1, 2, 1, 2)
    target = torch.tensor([[1., 1.], [3., 3.]]).reshape(1, 2, 1, 2)
    kl = 0.5 * math.log(2) + 0.5 * math.log(2 / 3)
    loss = SpatialKLLoss()(output, target, torch.tensor([[2., 1.]]))
    assert loss.item() == pytest.approx((2 * kl + 1 * 0.) / 2, rel=1e-6)
    unweighted = SpatialKLLoss(use_target_weight=False)(output, target, torch.tensor([[2., 1.]]))
    assert unweighted.item() == pytest.approx(kl / 2, rel=1e-6)


def test_all_zero_target_channel_is_masked_not_nan():
    output = torch.randn(2, 3, 4, 4, requires_grad=True)
    target = torch.rand(2, 3, 4, 4)
    target[0, 1] = 0.  # invisible joint: no Gaussian
    loss = SpatialKLLoss()(output, target)
    assert torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(output.grad).all()
    assert torch.count_nonzero(output.grad[0, 1]) == 0  # the masked channel gets no gradient
    # and it equals the loss over the present channels, still divided by all B*K = 6
    p = target / target.sum(dim=(-2, -1), keepdim=True)
    log_q = F.log_softmax(output.detach().flatten(2), -1).reshape(output.shape)
    per_channel = torch.nan_to_num((p * (p.log() - log_q)).sum(dim=(-2, -1)), nan=0.)
    assert loss.item() == pytest.approx(per_channel.sum().item() / 6, rel=1e-5)


def test_matches_torch_kl_div_on_random_maps():
    output = torch.randn(3, 5, 6, 7)
    target = torch.rand(3, 5, 6, 7) + 0.01
    p = target.flatten(2) / target.flatten(2).sum(-1, keepdim=True)
    reference = F.kl_div(F.log_softmax(output.flatten(2), -1), p, reduction='none').sum(-1)
    assert SpatialKLLoss()(output, target).item() == pytest.approx(reference.mean().item(),
                                                                  rel=1e-5)


def test_epsilon_smoothing_and_loss_weight():
    # target [1, 0] + eps 1 -> [2, 1] / 3; prediction uniform
    output = torch.zeros(1, 1, 1, 2)
    target = torch.tensor([1., 0.]).reshape(1, 1, 1, 2)
    expected = 2 / 3 * math.log((2 / 3) / 0.5) + 1 / 3 * math.log((1 / 3) / 0.5)
    loss = SpatialKLLoss(epsilon=1., loss_weight=3.)(output, target)
    assert loss.item() == pytest.approx(3 * expected, rel=1e-6)
    # an all-zero channel stays masked even with smoothing (it would otherwise become uniform)
    assert SpatialKLLoss(epsilon=1.)(output, torch.zeros(1, 1, 1, 2)).item() == 0.


def test_normalize_spatially():
    maps = torch.tensor([[[[1., 3.]], [[0., 0.]]]])
    out = normalize_spatially(maps)
    assert torch.equal(out, torch.tensor([[[[0.25, 0.75]], [[0., 0.]]]]))


def test_bad_input():
    with pytest.raises(ValueError, match='same'):
        SpatialKLLoss()(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 5))
    with pytest.raises(ValueError, match='epsilon must be >= 0'):
        SpatialKLLoss(epsilon=-1)
