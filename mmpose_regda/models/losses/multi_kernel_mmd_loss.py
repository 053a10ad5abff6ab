from typing import Dict, Sequence

import torch
import torch.nn as nn
from torch import Tensor

from mmpose.registry import MODELS


@MODELS.register_module()
class MultiKernelMMDLoss(nn.Module):
    r"""DAN's multi-kernel maximum mean discrepancy (Long et al., ICML 2015) between source and
    target features, minimised by the generator.

    .. math::
        \mathrm{MMD}^2 = \frac{\sum_{i \ne j} k(s_i, s_j)}{n(n-1)}
            + \frac{\sum_{i \ne j} k(t_i, t_j)}{m(m-1)} - \frac{2}{nm} \sum_{i,j} k(s_i, t_j)

    (the unbiased estimate), with :math:`k = \sum_a \exp(-\|x - y\|^2 / (2 a \bar d))` a sum of
    Gaussian kernels whose bandwidths are multiples ``a`` of the mean squared distance
    :math:`\bar d` between all the batch's features (the reference library's kernels: a in
    2^-3 .. 2^1, equal weights). The bandwidth is read without gradient: it sets the scale, the
    generator should not move it.

    Args:
        bandwidth_multipliers (Sequence[float]): the ``a`` of each Gaussian kernel.
    """

    def __init__(self, bandwidth_multipliers: Sequence[float] = (0.125, 0.25, 0.5, 1., 2.)):
        super().__init__()
        if not bandwidth_multipliers or min(bandwidth_multipliers) <= 0:
            raise ValueError('MultiKernelMMDLoss: bandwidth_multipliers must be positive, got '
                             f'{bandwidth_multipliers}')
        self.bandwidth_multipliers = tuple(float(a) for a in bandwidth_multipliers)

    def forward(self, source: Tensor, target: Tensor) -> Dict[str, Tensor]:
        n, m = len(source), len(target)
        if n < 2 or m < 2:
            raise ValueError(f'MultiKernelMMDLoss: the unbiased MMD needs at least 2 samples per '
                             f'domain, got {n} source and {m} target')
        features = torch.cat((source, target)).float()
        squared = torch.cdist(features, features).pow(2)
        mean_squared = squared.detach().mean().clamp_min(1e-12)
        kernel = sum(torch.exp(-squared / (2 * a * mean_squared))
                     for a in self.bandwidth_multipliers)
        k_ss, k_tt, k_st = kernel[:n, :n], kernel[n:, n:], kernel[:n, n:]
        mmd = ((k_ss.sum() - k_ss.diagonal().sum()) / (n * (n - 1)) +
               (k_tt.sum() - k_tt.diagonal().sum()) / (m * (m - 1)) - 2 * k_st.mean())
        return dict(loss_mmd=mmd)
