"""UDAPE's mean-teacher consistency on the unlabeled target, its pieces apart: the teacher's
targets in the student's view, the confidence mask, the occlusion of confident keypoints."""
import math
from typing import NamedTuple, Optional

import torch
from torch import Tensor

from mmpose.registry import MODELS
from ..utils import heatmap_argmax, normalize_spatially, warp_heatmaps
from .ground_false_target_generator import GroundFalseTargetGenerator


class TeacherTargets(NamedTuple):
    """The teacher's predictions carried into the student's view.

    Attributes:
        keypoints (Tensor): (B, K, 2) integer (x, y) of each warped heatmap's peak, in the
            student's heatmap pixels.
        heatmaps (Tensor): (B, K, H, W) a Gaussian of the codec's sigma at each peak,
            normalised (the consistency loss's target).
        confidence (Tensor): (B, K) the warped peak over the peak of a training target (1: as
            sharp as the labels the model learnt from; ~0 where the keypoint left the view).
    """
    keypoints: Tensor
    heatmaps: Tensor
    confidence: Tensor


@MODELS.register_module()
class MeanTeacherConsistency:
    """The settings and operations of mean-teacher consistency (UDAPE, Kim et al., ECCV 2022),
    for an estimator with a ``teacher`` (``DomainAdaptationEstimator(mean_teacher=...)``).

    Per target image, the teacher (the exponential moving average of psi and f) predicts on its
    view; its spatial distributions are warped into the student's view (:meth:`targets`), each
    turned into a Gaussian at its peak, and keypoints whose confidence is at or below the
    ``mask_quantile`` of the batch's are left out (:meth:`mask`). The student's view has a
    confident keypoint occluded with probability ``occlusion_prob`` (:meth:`occlude`), and the
    student learns the targets with the head's loss, weighted by ``weight`` (UDAPE's
    ``lambda_c``).

    UDAPE's code warps both predictions back into the image's frame and compares them with an
    MSE; here the teacher's targets are carried into the student's view, where the student's
    KL head learns them with its own loss (a Gaussian target is what it learns from on the
    source). Its thresholds read the MSE heatmap's peak (1 on a target); the confidence here
    is the peak probability over a training target's, the same scale.

    Args:
        momentum (float): the teacher's EMA weight on the student per update, as mmengine's
            ``ExponentialMovingAverage`` counts it (UDAPE's ``teacher_alpha`` 0.999 is 0.001).
        weight (float): lambda of the consistency loss (UDAPE: 1).
        sigma (float): the targets' Gaussian std in heatmap pixels (the codec's).
        mask_quantile (float): the share of the batch's keypoints, least confident first,
            left out of the loss (UDAPE's ``mask_ratio``: 0.5).
        occlusion_prob (float): per image, the probability of occluding one confident
            keypoint in the student's view (UDAPE's ``occlude_rate``: 0.5).
        occlusion_confidence (float): the confidence a keypoint needs to be occluded (UDAPE's
            ``occlude_thresh``: 0.9).
        occlusion_size (float): the occluding square's half side, as a share of the input's
            width (UDAPE: 10 pixels of 256).
    """

    def __init__(self,
                 momentum: float = 0.001,
                 weight: float = 1.,
                 sigma: float = 2.,
                 mask_quantile: float = 0.5,
                 occlusion_prob: float = 0.5,
                 occlusion_confidence: float = 0.9,
                 occlusion_size: float = 10 / 256):
        if not 0 < momentum < 1:
            raise ValueError(f'MeanTeacherConsistency: momentum must be in (0, 1) (the '
                             f'student\'s weight per EMA step), got {momentum}')
        for name, value, low, high in (('mask_quantile', mask_quantile, 0., 1.),
                                       ('occlusion_prob', occlusion_prob, 0., 1.),
                                       ('occlusion_size', occlusion_size, 0., 0.5)):
            if not low <= value <= high:
                raise ValueError(f'MeanTeacherConsistency: {name} must be in [{low}, {high}], '
                                 f'got {value}')
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError(f'MeanTeacherConsistency: weight must be finite and >= 0, got '
                             f'{weight}')
        self.momentum = float(momentum)
        self.weight = float(weight)
        self.mask_quantile = float(mask_quantile)
        self.occlusion_prob = float(occlusion_prob)
        self.occlusion_confidence = float(occlusion_confidence)
        self.occlusion_size = float(occlusion_size)
        # its Gaussians (truncated at 3 sigma, as UDAPE's) at integer peaks, as the codec's
        self.codec = GroundFalseTargetGenerator(sigma=sigma)

    def target_peak(self, height: int, width: int, device=None) -> float:
        """The peak probability of a training target: the normalised Gaussian at the centre."""
        centre = torch.tensor([[width // 2, height // 2]], device=device)
        gaussian = self.codec.gaussians(centre, height, width)
        return float(gaussian.max() / gaussian.sum())

    @torch.no_grad()
    def targets(self, teacher_probs: Tensor, view_matrices: Tensor) -> TeacherTargets:
        """The teacher's spatial distributions (B, K, H, W) in its own view, carried into the
        student's by ``view_matrices`` (B, 3, 3, teacher heatmap pixels -> student's)."""
        warped = warp_heatmaps(teacher_probs.float(), view_matrices)
        height, width = warped.shape[-2:]
        peaks = warped.flatten(2).amax(dim=-1)
        confidence = peaks / self.target_peak(height, width, warped.device)
        keypoints = heatmap_argmax(warped)
        heatmaps = normalize_spatially(self.codec.gaussians(keypoints, height, width))
        return TeacherTargets(keypoints, heatmaps, confidence)

    def mask(self, confidence: Tensor) -> Tensor:
        """(B, K) 1 for the keypoints above the batch's ``mask_quantile`` of confidence, else 0
        (UDAPE: above the k-th smallest, k = quantile x B x K)."""
        k = int(self.mask_quantile * confidence.numel())
        if k < 1:
            return torch.ones_like(confidence)
        threshold = confidence.flatten().kthvalue(k).values
        return (confidence > threshold).to(confidence.dtype)

    @torch.no_grad()
    def occlude(self, inputs: Tensor, keypoints: Tensor, confidence: Tensor,
                generator: Optional[torch.Generator] = None) -> Tensor:
        """The student's inputs (B, C, H, W) with, per image and with ``occlusion_prob``, one
        keypoint of confidence >= ``occlusion_confidence`` (drawn among them) covered by a
        square of the same image cut at a random place (UDAPE's adaptive occlusion).
        ``keypoints`` are (B, K, 2) in input pixels. Returns a new tensor."""
        inputs = inputs.clone()
        _, _, height, width = inputs.shape
        half = max(1, round(self.occlusion_size * width))
        # one copy to the host for the whole batch, not a sync per image and keypoint
        confident = (confidence >= self.occlusion_confidence).cpu()
        keypoints = keypoints.round().long().cpu()
        for b in range(inputs.shape[0]):
            candidates = torch.nonzero(confident[b]).flatten()
            if len(candidates) == 0 or torch.rand((), generator=generator) > self.occlusion_prob:
                continue
            pick = candidates[torch.randint(len(candidates), (), generator=generator)]
            x, y = keypoints[b, pick].tolist()
            left, right = max(x - half, 0), min(x + half, width)
            top, bottom = max(y - half, 0), min(y + half, height)
            if right <= left or bottom <= top:
                continue
            src_left = int(torch.randint(width - (right - left) + 1, (), generator=generator))
            src_top = int(torch.randint(height - (bottom - top) + 1, (), generator=generator))
            patch = inputs[b, :, src_top:src_top + bottom - top,
                           src_left:src_left + right - left].clone()
            inputs[b, :, top:bottom, left:right] = patch
        return inputs
