from typing import Dict

import torch
from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import SampleList
from ..heads.kl_heatmap_head import spatial_softmax
from ..utils import frozen_parameters
from .two_head_adaptation import Features, TwoHeadAdaptationEstimator


def heatmap_discrepancy(logits_a: Tensor, logits_b: Tensor) -> Tensor:
    """MCD's discrepancy for heatmaps: the L1 distance between the two heads' spatial
    distributions (softmax over each keypoint's map), summed over space and averaged over
    B * K. It is MCD's L1 between class probabilities with the heatmap's positions as classes,
    bounded in [0, 2]: maximising it cannot diverge."""
    return (spatial_softmax(logits_a) - spatial_softmax(logits_b)).abs().flatten(2).sum(-1).mean()


@MODELS.register_module()
class MCDPoseEstimator(TwoHeadAdaptationEstimator):
    r"""Maximum Classifier Discrepancy (Saito et al., CVPR 2018) for heatmap regression.

    Two regressors f = ``head`` and f2 = ``adv_head`` on psi's features play against psi on the
    target, through the discrepancy :math:`d` of :func:`heatmap_discrepancy`:

    - Objective 1 (MCD's step A), updates psi, f, f2: both heads learn the source labels,
      :math:`L_T(f(\psi(x_s)), y_s) + L_T(f_2(\psi(x_s)), y_s)`.
    - Objective 2 (step B), updates f and f2 with psi fixed: they stay right on the source and
      disagree on the target, :math:`L_T^s(f) + L_T^s(f_2) - \eta\, d(f(\psi(x_t)),
      f_2(\psi(x_t)))`.
    - Objective 3 (step C), updates psi only: :math:`\eta\, d(f(\psi(x_t)), f_2(\psi(x_t)))` with
      both heads frozen, moving the target features to where the heads agree.

    MCD repeats step C ``num_k`` times (4 in its code); here it runs once per iteration, so that
    every method of the comparison updates psi the same number of times per iteration. Step B
    runs psi again on the source batch (without gradient: psi has changed since step A).

    Args:
        **kwargs: as ``TwoHeadAdaptationEstimator``: ``adv_head`` is f2 (by default a copy of
            ``head``'s config with its own initialisation: the two heads must start different
            to disagree), ``trade_off`` the weight of the discrepancy. ``adv_grad_scale`` is
            not used: both heads send psi their full gradient, as in MCD.
    """
    OBJECTIVE_PARTS = (('generator', 'head', 'adv_head'), ('head', 'adv_head'), ('generator', ))
    objective_names = ('Objective 1 (source: psi, f, f2)',
                       'Objective 2 (f, f2: source loss, maximise target discrepancy)',
                       'Objective 3 (psi: minimise target discrepancy)')

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # the source batch of Objective 1, for Objective 2's source term
        self._source_batch = None

    def _source_losses(self, feats: Features, data_samples: SampleList) -> Dict[str, Tensor]:
        losses = {}
        for name, head in (('loss_source', self.head), ('loss_source_f2', self.adv_head)):
            logits = head.forward(feats)
            supervised = head.loss_from_logits(logits, data_samples, self.train_cfg)
            losses[name] = supervised['loss_kpt']
            if head is self.head and 'acc_pose' in supervised:
                losses['acc_pose'] = supervised['acc_pose']
        return losses

    def objective_1(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """Step A: both heads learn the source labels with psi."""
        self._source_batch = (inputs, data_samples)
        feats = self.extract_feat(inputs)
        return self._source_losses(feats, data_samples)

    def objective_2(self, inputs: Tensor) -> Dict[str, Tensor]:
        """Step B: the heads keep the source right and disagree on the target."""
        if self._source_batch is None:
            raise RuntimeError('MCDPoseEstimator: Objective 2 keeps the heads right on the '
                               'source batch of Objective 1; call objective_1 first')
        source_inputs, data_samples = self._source_batch
        self._source_batch = None
        with torch.no_grad():
            source_feats = self.extract_feat(source_inputs)
        losses = self._source_losses(source_feats, data_samples)
        losses.pop('acc_pose', None)
        target_feats = self.extract_feat(inputs)
        self._target_pass = target_feats
        # detached: the heads learn from Objective 2, psi does not
        detached = tuple(feat.detach() for feat in target_feats)
        discrepancy = heatmap_discrepancy(self.head.forward(detached),
                                          self.adv_head.forward(detached))
        losses['loss_discrepancy_negated'] = -self.trade_off * discrepancy
        losses['discrepancy_target'] = discrepancy.detach()
        return {name.replace('loss_source', 'loss_heads_source'): value
                for name, value in losses.items()}

    def objective_3(self) -> Dict[str, Tensor]:
        """Step C: psi moves the target features to where the two heads agree."""
        feats = self._pop_target_pass()
        with frozen_parameters(self.head), frozen_parameters(self.adv_head):
            discrepancy = heatmap_discrepancy(self.head.forward(feats),
                                              self.adv_head.forward(feats))
        return dict(loss_discrepancy=self.trade_off * discrepancy)
