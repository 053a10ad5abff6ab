from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmpose.registry import MODELS
from ..utils import scale_gradient


@MODELS.register_module()
class DomainAdversarialLoss(nn.Module):
    """DANN's domain loss (Ganin et al., JMLR 2016): a domain discriminator on the generator's
    features, behind a gradient reversal layer.

    The discriminator learns to tell source (label 1) from target (label 0) features by
    minimising the binary cross entropy; the features reach it through a layer that is the
    identity forward and negates the gradient backward, so the same minimisation pushes the
    generator towards features the discriminator cannot tell apart. The discriminator is the
    reference library's: Linear-BN-ReLU twice, then a linear logit.

    Args:
        in_channels (int): feature length (the estimator pools psi's maps to vectors).
        hidden_channels (int): width of the discriminator.
    """

    def __init__(self, in_channels: int, hidden_channels: int = 1024):
        super().__init__()
        self.discriminator = nn.Sequential(
            nn.Linear(in_channels, hidden_channels), nn.BatchNorm1d(hidden_channels),
            nn.ReLU(inplace=True), nn.Linear(hidden_channels, hidden_channels),
            nn.BatchNorm1d(hidden_channels), nn.ReLU(inplace=True),
            nn.Linear(hidden_channels, 1))

    def forward(self, source: Tensor, target: Tensor) -> Dict[str, Tensor]:
        """(B_s, C) and (B_t, C) features -> the domain loss (mean of the two domains' BCE) and
        the discriminator's accuracy."""
        features = scale_gradient(torch.cat((source, target)), -1.)
        logits = self.discriminator(features).squeeze(1)
        labels = torch.cat((logits.new_ones(len(source)), logits.new_zeros(len(target))))
        bce = F.binary_cross_entropy_with_logits(logits, labels, reduction='none')
        loss = 0.5 * (bce[:len(source)].mean() + bce[len(source):].mean())
        accuracy = ((logits > 0).float() == labels).float().mean()
        return dict(loss_domain=loss, domain_acc=accuracy.detach())
