from typing import Dict

import torch
from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import SampleList
from ..heads.kl_heatmap_head import spatial_softmax
from ..utils import frozen, unwrap
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
            to disagree), ``trade_off`` the weight of the discrepancy. ``adv_grad_scale`` is
            not used: both heads send psi their full gradient, as in MCD.
    """

    SCALES_ADAPTATION_GRADIENT = False

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, Tensor]:
        """MCD's steps A, B and C on ``data = dict(source=..., target=...)``, one update each
        (``optim_wrapper``: a ``PartOptimWrapperDict``). Returns the log variables of all."""
        source, target_inputs = self.split_domains(data, optim_wrapper)

        # Step A: psi, f and f2 learn the labeled source
        with optim_wrapper.optim_context(self):
            losses = self.source_losses(self.extract_feat(source['inputs']),
                                        source['data_samples'])
        log_vars = optim_wrapper.update_params(losses, parts=('generator', 'head', 'adv_head'),
                                               objective='Step A (source: psi, f, f2)')
        if not self.adaptation_enabled:  # the warm-up trains step A alone
            return log_vars

        # Step B: f and f2 keep the source right and disagree on the target, psi fixed
        with optim_wrapper.optim_context(self):
            with torch.no_grad():  # psi has changed since step A
                source_feats = self.extract_feat(source['inputs'])
            target_feats = self.extract_feat(target_inputs)
            losses = self.step_b(source_feats, source['data_samples'], target_feats)
        log_vars.update(optim_wrapper.update_params(
            losses, parts=('head', 'adv_head'),
            objective='Step B (f, f2: source loss, maximise target discrepancy)'))

        # Step C: psi moves the same target features to where the two heads agree
        with optim_wrapper.optim_context(self):
            with frozen(self.head) as head, frozen(self.adv_head) as adv_head:
                discrepancy = heatmap_discrepancy(head(target_feats), adv_head(target_feats))
            losses = dict(loss_discrepancy=self.trade_off * discrepancy)
        log_vars.update(optim_wrapper.update_params(
            losses, parts=('generator', ), objective='Step C (psi: minimise target discrepancy)'))
        return log_vars

    def source_losses(self, feats: Features, data_samples: SampleList) -> Dict[str, Tensor]:
        """L_T of f and of f2 on the source labels (and f's training accuracy)."""
        losses = {}
        for name, head in (('loss_source', self.head), ('loss_source_f2', self.adv_head)):
            supervised = unwrap(head).loss_from_logits(head(feats), data_samples, self.train_cfg)
            losses[name] = supervised['loss_kpt']
            if head is self.head and 'acc_pose' in supervised:
                losses['acc_pose'] = supervised['acc_pose']
        return losses

    def step_b(self, source_feats: Features, data_samples: SampleList,
               target_feats: Features) -> Dict[str, Tensor]:
        """The heads' source losses minus their target discrepancy, on features psi does not
        learn from (the target's detached; each domain through the heads on its own, as MCD)."""
        no_accuracy = dict(self.train_cfg, compute_acc=False)
        losses = {}
        for name, head in (('loss_heads_source', self.head),
                           ('loss_heads_source_f2', self.adv_head)):
            losses[name] = unwrap(head).loss_from_logits(head(source_feats), data_samples,
                                                         no_accuracy)['loss_kpt']
        detached = tuple(feat.detach() for feat in target_feats)
        discrepancy = heatmap_discrepancy(self.head(detached), self.adv_head(detached))
        losses['loss_discrepancy_negated'] = -self.trade_off * discrepancy
        losses['discrepancy_target'] = discrepancy.detach()
        return losses
