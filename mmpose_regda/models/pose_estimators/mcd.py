from typing import Dict

import torch
from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import SampleList
from ..utils import frozen, heatmap_discrepancy
from .two_head_adaptation import Features, TwoHeadAdaptationEstimator


@MODELS.register_module()
class MCDPoseEstimator(TwoHeadAdaptationEstimator):
    r"""Maximum Classifier Discrepancy (Saito et al., CVPR 2018) for heatmap regression.

    Two regressors f = ``head`` and f2 = ``adv_head`` on psi's features play against psi on the
    target, through the discrepancy :math:`d` of :func:`heatmap_discrepancy`; one iteration is
    MCD's three steps, one update each (:meth:`train_step`):

    - Step A, updates psi, f, f2: both heads learn the source labels,
      :math:`L_T(f(\psi(x_s)), y_s) + L_T(f_2(\psi(x_s)), y_s)`.
    - Step B, updates f and f2 with psi fixed: they stay right on the source and disagree on the
      target, :math:`L_T^s(f) + L_T^s(f_2) - \eta\, d(f(\psi(x_t)), f_2(\psi(x_t)))`.
    - Step C, updates psi only: :math:`\eta\, d(f(\psi(x_t)), f_2(\psi(x_t)))` with both heads
      frozen, moving the target features to where the heads agree.

    MCD repeats step C ``num_k`` times (4 in its code); here it runs once per iteration, so that
    every method of the comparison updates psi the same number of times per iteration. Step B
    runs psi again on the source batch (without gradient: psi has changed since step A).

    Args:
        **kwargs: as ``TwoHeadAdaptationEstimator``: ``adv_head`` is f2 (by default a copy of
            ``head``'s config with its own initialisation: the two heads must start different
            to disagree), ``trade_off`` the weight of the discrepancy. ``adaptation_grad_scale``
            is not used: both heads send psi their full gradient, as in MCD.
    """

    SCALES_ADAPTATION_GRADIENT = False
    #: The steps' ids (which key their state) and how logs and errors name them.
    STEP_NAMES = dict(step_a='Step A (source: psi, f, f2)',
                      step_b='Step B (f, f2: source loss, maximise target discrepancy)',
                      step_c='Step C (psi: minimise target discrepancy)')

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, Tensor]:
        """MCD's steps A, B and C on ``data = dict(source=..., target=...)``, one update each
        (``optim_wrapper``: a ``PartOptimWrapperDict``). Returns the log variables of all."""
        source, target_inputs = self.split_domains(data, optim_wrapper)
        optim_wrapper.start_iteration()

        # Step A: psi, f and f2 learn the labeled source
        update = optim_wrapper.objective('step_a', ('generator', 'head', 'adv_head'),
                                         self.STEP_NAMES['step_a'])
        with update.optim_context(self):
            losses = self.source_losses(self.extract_feat(source['inputs']),
                                        source['data_samples'])
        log_vars = self.update_parts(update, losses)
        if not self.adaptation_enabled:  # the warm-up trains step A alone
            return log_vars

        # Step B: f and f2 keep the source right and disagree on the target, psi fixed
        update = optim_wrapper.objective('step_b', ('head', 'adv_head'), self.STEP_NAMES['step_b'])
        with update.optim_context(self):
            with torch.no_grad():  # psi has changed since step A
                source_feats = self.extract_feat(source['inputs'])
            target_feats = self.extract_feat(target_inputs)
            losses = self.step_b(source_feats, source['data_samples'], target_feats)
        log_vars.update(self.update_parts(update, losses))

        # Step C: psi moves the same target features to where the two heads agree
        update = optim_wrapper.objective('step_c', ('generator', ), self.STEP_NAMES['step_c'])
        with update.optim_context(self):
            with frozen(self.head) as head, frozen(self.adv_head) as adv_head:
                discrepancy = heatmap_discrepancy(head(target_feats), adv_head(target_feats))
            losses = dict(loss_discrepancy=self.trade_off * discrepancy)
        log_vars.update(self.update_parts(update, losses))
        return log_vars

    def source_losses(self, feats: Features, data_samples: SampleList) -> Dict[str, Tensor]:
        """L_T of f and of f2 on the source labels (and f's training accuracy)."""
        losses = self.source_loss(self.head(feats), data_samples)
        losses.update(self.source_loss(self.adv_head(feats), data_samples, head=self.adv_head,
                                       name='loss_source_f2', accuracy=False))
        return losses

    def step_b(self, source_feats: Features, data_samples: SampleList,
               target_feats: Features) -> Dict[str, Tensor]:
        """The heads' source losses minus their target discrepancy, on features psi does not
        learn from (the target's detached; each domain through the heads on its own, as MCD)."""
        losses = {}
        for name, head in (('loss_heads_source', self.head),
                           ('loss_heads_source_f2', self.adv_head)):
            losses.update(self.source_loss(head(source_feats), data_samples, head=head,
                                           name=name, accuracy=False))
        detached = tuple(feat.detach() for feat in target_feats)
        discrepancy = heatmap_discrepancy(self.head(detached), self.adv_head(detached))
        losses['loss_discrepancy_negated'] = -self.trade_off * discrepancy
        losses['discrepancy_target'] = discrepancy.detach()
        return losses
