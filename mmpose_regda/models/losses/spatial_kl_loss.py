from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmpose.registry import MODELS
from ..utils import normalize_spatially


@MODELS.register_module()
class SpatialKLLoss(nn.Module):
    r"""L_T of Eq. 8: KL divergence from the spatially normalised target to the spatial softmax of
    the logits, per keypoint.

    .. math::
        L_T(z, y) = \frac{1}{BK} \sum_{b,k} w_{bk}\,
            \mathrm{KL}\big(\mathcal{P}_T(y_{bk}) \,\|\, \sigma(z_{bk})\big)

    with sigma the softmax over the H x W positions (Eq. 7), P_T the target heatmap divided by its
    sum (Eq. 6) and w the keypoint weights. The mean runs over all B x K channels, as in the
    reference. Channels whose target is all zero get weight 0: they have no distribution to match
    (the reference relied on an old ``kl_div`` that silently returned 0 for them).

    Because sigma(z) sums to one, maximising or minimising this loss cannot blow the logits up,
    which is why the paper trains f and f' with it rather than with MSE.

    Args:
        use_target_weight (bool): multiply each channel by its keypoint weight.
        epsilon (float): mass added to every target pixel before normalising (reference's
            smoothing; 0 disables). All-zero channels stay masked either way.
        loss_weight (float): factor on the loss.
    """

    def __init__(self,
                 use_target_weight: bool = True,
                 epsilon: float = 0.,
                 loss_weight: float = 1.):
        super().__init__()
        if epsilon < 0:
            raise ValueError(f'SpatialKLLoss: epsilon must be >= 0, got {epsilon}')
        self.use_target_weight = use_target_weight
        self.epsilon = epsilon
        self.loss_weight = loss_weight

    def forward(self,
                output: Tensor,
                target: Tensor,
                target_weights: Optional[Tensor] = None) -> Tensor:
        """
        Args:
            output (Tensor): logits, (B, K, H, W).
            target (Tensor): target heatmaps, (B, K, H, W), non-negative (need not sum to 1).
            target_weights (Tensor, optional): (B, K) keypoint weights.

        Returns:
            Tensor: scalar loss.
        """
        if output.shape != target.shape:
            raise ValueError(f'SpatialKLLoss: output {tuple(output.shape)} and target '
                             f'{tuple(target.shape)} must have the same (B, K, H, W) shape')
        B, K = output.shape[:2]
        log_prob = F.log_softmax(output.flatten(2).float(), dim=-1)
        target = target.float()
        present = target.sum(dim=(-2, -1)) > 0
        target_prob = normalize_spatially(target, self.epsilon).flatten(2)
        # KL(p || q) = sum p (log p - log q), with 0 log 0 = 0
        kl = (torch.xlogy(target_prob, target_prob) - target_prob * log_prob).sum(dim=-1)
        weights = present.to(kl.dtype)
        if self.use_target_weight and target_weights is not None:
            weights = weights * target_weights.reshape(B, K).to(kl.dtype)
        return (kl * weights).mean() * self.loss_weight
