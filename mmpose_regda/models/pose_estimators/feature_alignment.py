from typing import Dict

import torch
from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, SampleList
from ..utils import unwrap
from .domain_adaptation import DomainAdaptationEstimator


@MODELS.register_module()
class FeatureAlignmentPoseEstimator(DomainAdaptationEstimator):
    r"""Feature-level adaptation for heatmap regression: the supervised source loss plus a loss
    that aligns the generator's source and target features, minimised together in one update.

    With ``alignment=dict(type='DomainAdversarialLoss', ...)`` this is DANN, with
    ``alignment=dict(type='MultiKernelMMDLoss')`` DAN:

    .. math:: \min_{\psi, f, D}\; L_T(f(\psi(x_s)), y_s) + \eta\, L_{align}(\psi(x_s), \psi(x_t))

    psi = ``backbone`` + ``neck`` runs once on the source and target batches together (as the
    reference library does for DANN and DAN), and its feature maps are average-pooled to one
    vector per image before the alignment: the methods align the distribution of the
    generator's global features, as they do for classifiers. The alignment's gradient into psi
    is multiplied by ``adaptation_grad_scale``, which ``AdaptationScheduleHook`` warms up from 0
    (DANN's schedule of the gradient reversal's coefficient); DANN's reversal itself lives in
    its loss. Target labels are never read: only the target images go into the pass.

    Args:
        alignment (dict): the alignment loss; it returns a dict of log variables whose
            ``loss*`` terms are minimised (its own parameters, if any, form the part
            ``alignment``).
        **kwargs: as ``DomainAdaptationEstimator`` (backbone, neck, head, trade_off,
            ``adaptation_grad_scale``: the scale of the alignment gradient into psi, ...).
    """
    OPTIM_PARTS = dict(DomainAdaptationEstimator.OPTIM_PARTS, alignment=('alignment', ))

    def __init__(self,
                 alignment: ConfigType = dict(type='DomainAdversarialLoss', in_channels=256),
                 **kwargs):
        super().__init__(**kwargs)
        self.alignment = MODELS.build(alignment)

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, Tensor]:
        """One update on ``data = dict(source=..., target=...)`` (``optim_wrapper``: a
        ``PartOptimWrapperDict``), of every part (psi, f, the alignment's): the source loss
        alone during the warm-up, then the source loss and the alignment together. Both are the
        one objective ``objective_1``, so an accumulation window may span the warm-up's end."""
        source, target_inputs = self.split_domains(data, optim_wrapper)
        optim_wrapper.start_iteration()
        name = (f'Source loss + {type(unwrap(self.alignment)).__name__}'
                if self.adaptation_enabled else 'Source loss (psi, f)')
        update = optim_wrapper.objective('objective_1', tuple(optim_wrapper.keys()), name)
        with update.optim_context(self):
            if self.adaptation_enabled:
                losses = self.aligned_loss(torch.cat((source['inputs'], target_inputs)),
                                           source['data_samples'])
            else:
                losses = self.source_loss(self.head(self.extract_feat(source['inputs'])),
                                          source['data_samples'])
        return self.update_parts(update, losses)

    def aligned_loss(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """The source loss on the first ``len(data_samples)`` images of the batch, and the
        alignment between their pooled features and the rest's (the target images')."""
        num_source = len(data_samples)
        feats = self.extract_feat(inputs)
        losses = self.source_loss(self.head(tuple(feat[:num_source] for feat in feats)),
                                  data_samples)
        pooled, = self.scale_adaptation_gradient((feats[-1].mean(dim=(2, 3)), ))
        for name, value in self.alignment(pooled[:num_source], pooled[num_source:]).items():
            losses[name] = self.trade_off * value if name.startswith('loss') else value
        return losses
