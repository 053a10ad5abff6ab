from typing import Callable, Dict, NamedTuple

import torch
from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, SampleList
from ..task_modules import GroundFalseTargets
from ..utils import frozen, keypoint_disparity
from .domain_adaptation import check_weight
from .two_head_adaptation import Features, TwoHeadAdaptationEstimator


class _TargetObjective(NamedTuple):
    """One side of the target game: minimise or maximise L_T or L_F (Table 3's cells)."""
    maximise: bool
    ground_false: bool

    @classmethod
    def parse(cls, field: str, text: str) -> '_TargetObjective':
        words = str(text).split()
        if len(words) != 2 or words[0] not in ('min', 'max') or words[1] not in ('L_T', 'L_F'):
            raise ValueError(f'RegDAPoseEstimator: {field} must be one of "min L_F", "max L_F", '
                             f'"min L_T", "max L_T", got {text!r}')
        return cls(maximise=words[0] == 'max', ground_false=words[1] == 'L_F')

    def describe(self) -> str:
        return (f'{"maximises" if self.maximise else "minimises"} '
                f'{"L_F" if self.ground_false else "L_T"}')

    def __call__(self, disparity_loss: Callable, adv_logits: Tensor,
                 pseudo: GroundFalseTargets, trade_off: float) -> Dict[str, Tensor]:
        """The loss to minimise: eta * L(f', P), negated to maximise; named after P."""
        target = pseudo.ground_false if self.ground_false else pseudo.ground_truth
        loss = trade_off * disparity_loss(adv_logits, target)
        name = 'loss_ground_false' if self.ground_false else 'loss_ground_truth'
        return {f'{name}_negated': -loss} if self.maximise else {name: loss}


@MODELS.register_module()
class RegDAPoseEstimator(TwoHeadAdaptationEstimator):
    r"""RegDA (Jiang et al., CVPR 2021): a top-down pose estimator adapted from a labeled source
    domain to an unlabeled target domain by an adversarial regressor.

    Parts, named as in the paper: the feature generator psi = ``backbone`` + ``neck``, the
    regressor f = ``head`` and the adversarial regressor f' = ``adv_head``. Inference uses f only,
    so a trained RegDA model predicts like the ``TopdownPoseEstimator`` it extends, and a
    source-only checkpoint with the same backbone, neck and head loads into it key for key.

    One training iteration runs the three objectives of section 4.4 in order (:meth:`train_step`),
    each a minimisation with its own update (one optimizer per part, see
    ``PartOptimWrapperConstructor``):

    - Objective 1 (Eq. 12), updates psi, f, f':
      :math:`L_T(f(\psi(x_s)), y_s) + w_s \eta L_T(f'(\psi(x_s)), J(f(\psi(x_s))))`.
    - Objective 2 (Eq. 13), updates f' only: :math:`\eta L_F`, the KL from the ground-false
      distribution of f's target prediction to f''s target prediction.
    - Objective 3 (Eq. 14), updates psi only: :math:`\eta L_T(f'(\psi(x_t)), J(f(\psi(x_t))))`,
      with f' as updated by Objective 2.

    psi runs once on the source batch and once on the target batch: Objectives 2 and 3 share the
    target features (psi does not change between them), and Objective 2 reads them detached, so
    it never back-propagates into psi. Target labels are never read: only the target images go
    into the passes.

    The adversarial pair is configurable (Table 3): ``adv_head_objective`` is what f' does with the
    target disparity in Objective 2 and ``generator_objective`` what psi does in Objective 3, each
    ``'min L_F'``, ``'max L_F'``, ``'min L_T'`` or ``'max L_T'``, a maximisation being the
    minimisation of the negated loss. RegDA is ``('min L_F', 'min L_T')``; DD (Zhang et al.,
    ICML 2019, with L_T in place of the cross entropy) is ``('max L_T', 'min L_T')``; Table 3's
    middle row is ``('min L_F', 'max L_F')``. Everything else (Objective 1, the parts each
    objective updates, the gradient scale) is the same machinery.

    Between psi and f' sits a gradient scale (identity forward): ``adaptation_grad_scale``
    multiplies the gradient that f''s losses send into psi. ``AdaptationScheduleHook`` warms it
    up from 0 (the reference's ``WarmStartGradientLayer``) and also switches the adaptation on
    after an optional source-only warm-up (``adaptation_enabled``); without the hook both stay
    at their initial values.

    Args:
        backbone, neck, head: as ``TopdownPoseEstimator``; ``head`` is f (a ``KLHeatmapHead``).
        adv_head (dict, optional): f'. Defaults to a copy of ``head``'s config.
        train_cfg, test_cfg, data_preprocessor, init_cfg, metainfo: as
            ``TopdownPoseEstimator``; these and the three below go to
            ``TwoHeadAdaptationEstimator``.
        ground_false (dict): the ``GroundFalseTargetGenerator`` (sigma 2 in the paper).
        disparity_loss (dict): the loss between f' and f's pseudo targets (L_T: ``SpatialKLLoss``).
        trade_off (float): eta of Eq. 12-14 (1 in the paper).
        source_disparity_weight (float): w_s on the source disparity of Objective 1; the paper's
            equation has 1, the reference implementation uses 4 (its ``margin``).
        adaptation_grad_scale (float): initial gradient scale on the f' -> psi path.
        adaptation_enabled (bool): initial state; False trains Objective 1 only.
        adv_head_objective (str): f''s objective on the target (Objective 2), see above.
        generator_objective (str): psi's objective on the target (Objective 3), see above.
    """
    #: ``mean_teacher=dict(...)``: RegDA + mean teacher, the consistency in Objective 1.
    SUPPORTS_MEAN_TEACHER = True
    #: The target objectives of Table 3's rows, (f' in Objective 2, psi in Objective 3).
    GAMES = dict(regda=('min L_F', 'min L_T'), dd=('max L_T', 'min L_T'),
                 ground_false_minimax=('min L_F', 'max L_F'))

    def __init__(self,
                 ground_false: ConfigType = dict(type='GroundFalseTargetGenerator', sigma=2.),
                 disparity_loss: ConfigType = dict(type='SpatialKLLoss',
                                                   use_target_weight=True),
                 source_disparity_weight: float = 4.,
                 adv_head_objective: str = 'min L_F',
                 generator_objective: str = 'min L_T',
                 **kwargs):
        # backbone, neck, head, adv_head, trade_off, adaptation_grad_scale, ...
        super().__init__(**kwargs)
        self.ground_false = MODELS.build(ground_false)
        self.disparity_loss = MODELS.build(disparity_loss)
        self.source_disparity_weight = check_weight('model.source_disparity_weight',
                                                    source_disparity_weight)
        self.adv_head_objective = _TargetObjective.parse('adv_head_objective', adv_head_objective)
        self.generator_objective = _TargetObjective.parse('generator_objective',
                                                          generator_objective)
        if adv_head_objective == generator_objective:
            raise ValueError(f'RegDAPoseEstimator: f\' and psi both {adv_head_objective!r} on '
                             'the target is no adversarial game; see GAMES for the paper\'s pairs')
        # the objectives' ids (which key their state) and how logs and errors name them
        self.objective_names = dict(
            objective_1='Objective 1 (source: psi, f, f\')',
            objective_2=f'Objective 2 (target: f\' {self.adv_head_objective.describe()})',
            objective_3=f'Objective 3 (target: psi {self.generator_objective.describe()})')

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, Tensor]:
        """One iteration of section 4.4 on ``data = dict(source=..., target=...)``: Objectives
        1, 2 and 3 in order, one update each (``optim_wrapper``: a ``PartOptimWrapperDict``).
        Returns the log variables of every objective."""
        source, target_inputs = self.split_domains(data, optim_wrapper)
        optim_wrapper.start_iteration()
        names = self.objective_names

        # Objective 1 (Eq. 12): psi, f and f' on the labeled source
        update = optim_wrapper.objective('objective_1', ('generator', 'head', 'adv_head'),
                                         names['objective_1'])
        self.start_teacher()
        with update.optim_context(self):
            losses = self.objective_1(source['inputs'], source['data_samples'])
            if self.teacher is not None and self.adaptation_enabled:
                # RegDA + mean teacher: psi and f also learn the teacher's targets on the
                # student's view of the target, in the objective that trains them on the source
                losses.update(self.consistency_losses(data['target'], target_inputs))
        log_vars = self.update_parts(update, losses)
        if not self.adaptation_enabled:  # the warm-up trains Objective 1 alone
            self.update_teacher(optim_wrapper)
            return log_vars

        # Objective 2 (Eq. 13): f' alone, on the target features and f's pseudo targets
        update = optim_wrapper.objective('objective_2', ('adv_head', ), names['objective_2'])
        with update.optim_context(self):
            target_feats = self.extract_feat(target_inputs)
            with torch.no_grad():
                target_logits = self.head(target_feats)
            pseudo_targets = self.ground_false(target_logits)
            losses = self.objective_2(target_feats, target_logits, pseudo_targets)
        log_vars.update(self.update_parts(update, losses))

        # Objective 3 (Eq. 14): psi alone, through f' as Objective 2 left it, on the same
        # features and pseudo targets (psi has not changed since they were computed)
        update = optim_wrapper.objective('objective_3', ('generator', ), names['objective_3'])
        with update.optim_context(self):
            losses = self.objective_3(target_feats, pseudo_targets)
        log_vars.update(self.update_parts(update, losses))
        self.update_teacher(optim_wrapper)
        return log_vars

    def objective_1(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """Eq. 12 on the source batch: f learns the labels, f' learns to agree with f."""
        feats = self.extract_feat(inputs)
        logits = self.head(feats)
        losses = self.source_loss(logits, data_samples)
        pseudo_targets = self.ground_false(logits.detach())
        adv_logits = self.adv_head(self.scale_adaptation_gradient(feats))
        keypoint_weights = torch.cat(
            [d.gt_instance_labels.keypoint_weights for d in data_samples])
        disparity = self.disparity_loss(adv_logits, pseudo_targets.ground_truth,
                                        keypoint_weights)
        losses.update(
            loss_source_disparity=self.source_disparity_weight * self.trade_off * disparity,
            disparity_source=keypoint_disparity(adv_logits.detach(), logits.detach()))
        return losses

    def objective_2(self, target_feats: Features, target_logits: Tensor,
                    pseudo_targets: GroundFalseTargets) -> Dict[str, Tensor]:
        """Eq. 13 on the target: f' moves towards where f's mistakes would be (RegDA's game;
        ``adv_head_objective`` for the others). The features are detached: psi does not learn
        from this objective."""
        adv_logits = self.adv_head(tuple(feat.detach() for feat in target_feats))
        losses = self.adv_head_objective(self.disparity_loss, adv_logits, pseudo_targets,
                                         self.trade_off)
        losses['disparity_target'] = keypoint_disparity(adv_logits.detach(), target_logits)
        return losses

    def objective_3(self, target_feats: Features,
                    pseudo_targets: GroundFalseTargets) -> Dict[str, Tensor]:
        """Eq. 14 on the target: psi moves its features to where f' agrees with f (RegDA's
        game; ``generator_objective`` for the others), f' held fixed."""
        with frozen(self.adv_head) as adv_head:
            adv_logits = adv_head(self.scale_adaptation_gradient(target_feats))
        return self.generator_objective(self.disparity_loss, adv_logits, pseudo_targets,
                                        self.trade_off)
