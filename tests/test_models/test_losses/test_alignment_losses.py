"""The comparison methods' losses against hand computations: DANN's domain loss (and its
reversed gradient), DAN's multi-kernel MMD, MCD's heatmap discrepancy."""
import math

import pytest
import torch
import torch.nn as nn

import mmpose_regda  # noqa: F401
from mmpose_regda.models import DomainAdversarialLoss, MultiKernelMMDLoss
from mmpose_regda.models.utils import heatmap_discrepancy


def test_domain_loss_is_the_mean_bce_of_both_domains_and_reverses_the_feature_gradient():
    loss = DomainAdversarialLoss(in_channels=1)
    loss.discriminator = nn.Linear(1, 1)  # logit = feature, to compute by hand
    nn.init.ones_(loss.discriminator.weight)
    nn.init.zeros_(loss.discriminator.bias)
    source = torch.tensor([[2.]], requires_grad=True)
    target = torch.tensor([[-1.]], requires_grad=True)
    out = loss(source, target)
    # source label 1 at logit 2, target label 0 at logit -1
    expected = 0.5 * (math.log1p(math.exp(-2.)) + math.log1p(math.exp(-1.)))
    assert out['loss_domain'].item() == pytest.approx(expected, rel=1e-6)
    assert out['domain_acc'].item() == 1.
    out['loss_domain'].backward()
    sigmoid = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    # the discriminator descends the BCE ...
    weight_grad = 0.5 * ((sigmoid(2.) - 1) * 2. + sigmoid(-1.) * -1.)
    assert loss.discriminator.weight.grad.item() == pytest.approx(weight_grad, rel=1e-6)
    # ... while the features receive the negated gradient (gradient reversal)
    assert source.grad.item() == pytest.approx(-0.5 * (sigmoid(2.) - 1), rel=1e-6)
    assert target.grad.item() == pytest.approx(-0.5 * sigmoid(-1.), rel=1e-6)


def test_mmd_matches_the_unbiased_estimate_by_hand():
    source = torch.tensor([[0.], [1.]])
    target = torch.tensor([[2.], [4.]])
    points = [0., 1., 2., 4.]
    squared = [[(a - b)**2 for b in points] for a in points]
    mean_squared = sum(map(sum, squared)) / 16
    multipliers = (0.5, 2.)

    def k(i, j):
        return sum(math.exp(-squared[i][j] / (2 * a * mean_squared)) for a in multipliers)

    expected = (k(0, 1) + k(1, 0)) / 2 + (k(2, 3) + k(3, 2)) / 2 - 2 * (
        k(0, 2) + k(0, 3) + k(1, 2) + k(1, 3)) / 4
    mmd = MultiKernelMMDLoss(bandwidth_multipliers=multipliers)(source, target)['loss_mmd']
    assert mmd.item() == pytest.approx(expected, rel=1e-5)


def test_minimising_mmd_pulls_the_target_towards_the_source():
    generator = torch.Generator().manual_seed(0)
    source = torch.randn(16, 4, generator=generator)
    target = (torch.randn(16, 4, generator=generator) + 3.).requires_grad_()
    loss = MultiKernelMMDLoss()
    before = (target.mean(0) - source.mean(0)).norm().item()
    optimizer = torch.optim.SGD([target], lr=5.)
    for _ in range(20):
        optimizer.zero_grad()
        loss(source, target)['loss_mmd'].backward()
        optimizer.step()
    assert (target.mean(0) - source.mean(0)).norm().item() < 0.5 * before


def test_mmd_refuses_a_batch_it_cannot_estimate_from():
    with pytest.raises(ValueError, match='at least 2 samples per domain, got 1 source'):
        MultiKernelMMDLoss()(torch.zeros(1, 3), torch.zeros(4, 3))


def test_heatmap_discrepancy_is_the_l1_between_spatial_distributions():
    a = torch.tensor([[[[0., 0.], [0., math.log(3.)]]]])  # softmax: 1/6, 1/6, 1/6, 1/2
    b = torch.zeros(1, 1, 2, 2)  # uniform: 1/4 each
    expected = 3 * (1 / 4 - 1 / 6) + (1 / 2 - 1 / 4)
    assert heatmap_discrepancy(a, b).item() == pytest.approx(expected, rel=1e-6)
    assert heatmap_discrepancy(a, a).item() == 0
    # bounded by 2 however far apart the peaks are
    far = torch.tensor([[[[100., 0.], [0., 0.]]]]), torch.tensor([[[[0., 0.], [0., 100.]]]])
    assert heatmap_discrepancy(*far).item() == pytest.approx(2., abs=1e-6)
