from typing import Callable, Dict, Optional, Union

import torch
from mmengine.optim import OptimWrapperDict
from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, SampleList
from ..utils import minimise_over_parts, scale_gradient
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
    is multiplied by ``adv_grad_scale``, which ``RegDAHook`` warms up from 0 (DANN's schedule of
    the gradient reversal's coefficient); DANN's reversal itself lives in its loss. Target
    labels are never read: only the target images go into the pass.

    Args:
        alignment (dict): the alignment loss; it returns a dict of log variables whose
            ``loss*`` terms are minimised (its own parameters, if any, form the part
            ``alignment``).
        **kwargs: as ``DomainAdaptationEstimator`` (backbone, neck, head, trade_off,
            ``adv_grad_scale``: the scale of the alignment gradient into psi, ...).
    """
    OPTIM_PARTS = dict(DomainAdaptationEstimator.OPTIM_PARTS, alignment=('alignment', ))

    def __init__(self,
                 alignment: ConfigType = dict(type='DomainAdversarialLoss', in_channels=256),
                 **kwargs):
        super().__init__(**kwargs)
        self.alignment = MODELS.build(alignment)

    def train_step(self,
                   data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapperDict,
                   forward: Optional[Callable] = None) -> Dict[str, Tensor]:
        """One update on ``data = dict(source=..., target=...)`` (``forward`` as in
        ``TwoHeadAdaptationEstimator.train_step``: DDP passes itself)."""
        forward = forward if forward is not None else self
        source = self.data_preprocessor(data['source'], True)
        parts = list(optim_wrapper.keys())
        if not self.adaptation_enabled:
            return minimise_over_parts(
                'Source loss (psi, f)',
                forward(source['inputs'], source['data_samples'], mode='source_loss'),
                optim_wrapper, [p for p in parts if p != 'alignment'])
        # Only the target images: target labels, if the dataset has any, never reach a loss.
        target_inputs = self.data_preprocessor(data['target'], True)['inputs']
        return minimise_over_parts(
            f'Source loss + {type(self.alignment).__name__}',
            forward(torch.cat((source['inputs'], target_inputs)), source['data_samples'],
                    mode='aligned_loss'), optim_wrapper, parts)

    def forward(self, inputs, data_samples: Optional[SampleList] = None, mode: str = 'tensor'):
        """mmengine's modes, plus the two training passes (each through DDP forward)."""
        if mode == 'source_loss':
            return self.source_loss(self.extract_feat(inputs), data_samples)
        if mode == 'aligned_loss':
            return self.aligned_loss(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)

    def source_loss(self, feats, data_samples: SampleList) -> Dict[str, Tensor]:
        supervised = self.head.loss(feats, data_samples, self.train_cfg)
        losses = dict(loss_source=supervised['loss_kpt'])
        if 'acc_pose' in supervised:
            losses['acc_pose'] = supervised['acc_pose']
        return losses

    def aligned_loss(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """The source loss on the first ``len(data_samples)`` images of the batch, and the
        alignment between their pooled features and the rest's (the target images')."""
        num_source = len(data_samples)
        feats = self.extract_feat(inputs)
        losses = self.source_loss(tuple(feat[:num_source] for feat in feats), data_samples)
        pooled = scale_gradient(feats[-1].mean(dim=(2, 3)), self.adv_grad_scale)
        for name, value in self.alignment(pooled[:num_source], pooled[num_source:]).items():
            losses[name] = self.trade_off * value if name.startswith('loss') else value
        return losses
