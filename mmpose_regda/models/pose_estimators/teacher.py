"""The mean teacher of an adaptation estimator: the exponential moving average of psi and f,
its predictions on the target, and the consistency loss that carries them to the student."""
from contextlib import contextmanager
from typing import Dict, Iterator, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.dist import get_rank
from mmengine.model import ExponentialMovingAverage
from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import SampleList
from ..utils import spatial_softmax, unwrap, unwrapped_children, view_to_view_matrices

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)
#: The student's modules the teacher averages: psi and f.
STUDENT_MODULES = ('backbone', 'neck', 'deconv_layers', 'head')


@contextmanager
def batch_statistics(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` normalising each batch with its own statistics (train mode), its running
    statistics left as they are (batch-norm momentum 0): UDAPE's teacher predicts in train
    mode, and here its statistics are the EMA's alone."""
    norms = [m for m in module.modules() if isinstance(m, BATCH_NORMS)]
    was_training, momenta = module.training, [m.momentum for m in norms]
    module.train()
    for norm in norms:
        norm.momentum = 0.
    try:
        yield module
    finally:
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum
        module.train(was_training)


class TeacherEMA(ExponentialMovingAverage):
    """mmengine's ``ExponentialMovingAverage`` that reads its own tensors afresh at each
    update. With ``update_buffers`` it keeps the state dict it took when built, whose tensors a
    later device move or memory-format change (``ChannelsLastHook``) replaces: the average
    would go to tensors the module no longer uses."""

    def update_parameters(self, model: nn.Module) -> None:
        self.avg_parameters = (self.module.state_dict() if self.update_buffers else
                               dict(self.module.named_parameters()))
        super().update_parameters(model)


class MeanTeacherMixin:
    """Mean-teacher consistency for a ``DomainAdaptationEstimator`` (UDAPE, Kim et al., ECCV
    2022), switched on by its ``mean_teacher`` argument: a ``teacher`` module, mmengine's
    ``ExponentialMovingAverage`` of psi and f (parameters and batch-norm statistics), saved in
    checkpoints (``teacher.module.*``, ``teacher.steps``) so that a resumed run continues
    exactly, and never a part: no optimizer, no DDP wrapper, no gradient.

    A method adds :meth:`consistency_losses` to the objective that trains psi and f on the
    source, calls :meth:`start_teacher` when an iteration opens and :meth:`update_teacher`
    after its updates. The target batch comes from ``MeanTeacherViews`` and
    ``PackMeanTeacherInputs``: the student's view as the target ``inputs``, the teacher's as
    ``teacher_inputs``, the warps in the samples' metainfo. No target label is read.
    """
    teacher: Optional[ExponentialMovingAverage]

    def build_teacher(self, mean_teacher: Optional[dict]) -> None:
        """The consistency settings (``MeanTeacherConsistency``) and the teacher, or none."""
        self.mean_teacher = None
        self.teacher = None
        if mean_teacher is None:
            return
        if not getattr(self, 'SUPPORTS_MEAN_TEACHER', False):
            raise ValueError(
                f'{type(self).__name__} has no mean teacher: model.mean_teacher works with '
                'RegDAPoseEstimator (RegDA, DD, the middle row) and MeanTeacherPoseEstimator '
                '(docs/adapting_a_stock_config.md)')
        mean_teacher = dict(mean_teacher)
        mean_teacher.setdefault('type', 'MeanTeacherConsistency')
        if mean_teacher.get('sigma') is None:  # the codec's, which trained f on the source
            mean_teacher['sigma'] = getattr(getattr(self.head, 'decoder', None), 'sigma', 2.)
        self.mean_teacher = MODELS.build(mean_teacher)
        # parameters and batch-norm statistics both averaged: the teacher evaluates with
        # statistics of the same average as its weights
        self.teacher = TeacherEMA(self.student_modules(),
                                momentum=self.mean_teacher.momentum, update_buffers=True)

    def require_teacher(self, what: str) -> None:
        if self.teacher is None:
            raise ValueError(f'{what} reads the mean teacher, but this {type(self).__name__} has '
                             'none: set model.mean_teacher (or evaluate the student alone)')

    def student_modules(self) -> nn.ModuleDict:
        """psi and f, as the teacher mirrors them (unwrapped from their DDP wrappers)."""
        return nn.ModuleDict({name: unwrap(getattr(self, name)) for name in STUDENT_MODULES
                              if getattr(self, name, None) is not None})

    def start_teacher(self) -> None:
        """At the first iteration (``teacher.steps`` 0), the teacher becomes the student as it
        starts adapting (after ``load_from`` or ``psi_checkpoint``), as UDAPE copies it."""
        if self.teacher is not None and int(self.teacher.steps) == 0:
            self.teacher.update_parameters(self.student_modules())

    def update_teacher(self, optim_wrapper) -> None:
        """The EMA step, after psi and f have stepped (every ``accumulative_counts``-th
        iteration, when ``optim_wrapper.should_update()``)."""
        if self.teacher is not None and optim_wrapper.should_update():
            self.teacher.update_parameters(self.student_modules())

    def teacher_feats(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """psi of the teacher: backbone, neck, deconvolutions, as ``extract_feat``."""
        modules = self.teacher.module
        feats = modules['backbone'](inputs)
        if 'neck' in modules:
            feats = modules['neck'](feats)
        if 'deconv_layers' in modules:
            feats = (modules['deconv_layers'](feats[-1]), )
        return feats

    def consistency_losses(self, target: dict, target_inputs: Tensor) -> Dict[str, Tensor]:
        """``loss_consistency`` (lambda x the head's loss between the student's prediction on
        its occluded view and the teacher's Gaussian targets carried into that view, over the
        confident keypoints) and its log values. ``target`` is the collated target batch
        (``teacher_inputs`` and the samples' warps), ``target_inputs`` the student's view as
        ``split_domains`` preprocessed it."""
        if 'teacher_inputs' not in target:
            raise ValueError(
                f'{type(self).__name__}: the target batch has no teacher_inputs; a mean teacher '
                "needs the target pipeline's MeanTeacherViews and PackMeanTeacherInputs "
                "(adaptation.train_dataloader(source, target, method=method) or "
                'adaptation.mean_teacher_target(target) set them up)')
        samples: SampleList = target['data_samples']
        teacher_inputs = self.data_preprocessor(
            dict(inputs=target['teacher_inputs'], data_samples=samples), True)['inputs']
        with torch.no_grad(), batch_statistics(self.teacher):
            teacher_probs = spatial_softmax(self.teacher.module['head'](self.teacher_feats(
                teacher_inputs)).float())
        heatmap_size = teacher_probs.shape[-1], teacher_probs.shape[-2]
        input_size = target_inputs.shape[-1], target_inputs.shape[-2]
        matrices = view_to_view_matrices(samples, input_size, heatmap_size)
        targets = self.mean_teacher.targets(teacher_probs, matrices)
        mask = self.mean_teacher.mask(targets.confidence)
        stride = torch.tensor([input_size[0] / heatmap_size[0], input_size[1] / heatmap_size[1]],
                              device=targets.keypoints.device)
        # the occlusion's draws from the run's seed, the teacher's step and the rank: a resumed
        # run draws what the uninterrupted one would
        generator = torch.Generator().manual_seed(
            (torch.initial_seed() + 1_000_003 * int(self.teacher.steps) + get_rank()) % 2**63)
        student_inputs = self.mean_teacher.occlude(target_inputs, targets.keypoints * stride,
                                                   targets.confidence, generator)
        logits = self.head(self.extract_feat(student_inputs))
        loss = unwrap(self.head).loss_module(logits, targets.heatmaps.to(logits.dtype), mask)
        return dict(loss_consistency=self.mean_teacher.weight * loss,
                    consistency_kept=mask.mean(),
                    teacher_confidence=targets.confidence.mean())

    def add_teacher_predictions(self, inputs: Tensor, data_samples: SampleList) -> None:
        """``teacher_pred_instances``: the teacher's keypoints in image coordinates, for
        ``PartPCKAccuracy(pred_field='teacher_pred_instances')`` (``test_cfg.
        teacher_predictions``). Run before the student's predictions, which then take
        ``pred_instances``."""
        with unwrapped_children(self):
            if self.test_cfg.get('flip_test', False):
                feats = [self.teacher_feats(inputs), self.teacher_feats(inputs.flip(-1))]
            else:
                feats = self.teacher_feats(inputs)
            preds = self.teacher.module['head'].predict(feats, data_samples,
                                                        test_cfg=self.test_cfg)
        instances, fields = preds if isinstance(preds, tuple) else (preds, None)
        self.add_pred_to_datasample(instances, fields, data_samples)
        for sample in data_samples:
            sample.set_field(sample.pred_instances, 'teacher_pred_instances')
