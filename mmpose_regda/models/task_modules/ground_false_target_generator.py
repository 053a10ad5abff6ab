from typing import NamedTuple, Optional, Sequence

import torch
from torch import Tensor

from mmpose.registry import MODELS
from ..utils import heatmap_argmax, normalize_spatially


class GroundFalseTargets(NamedTuple):
    """Pseudo targets derived from f's prediction.

    Attributes:
        keypoints (Tensor): (B, K, 2) argmax positions (x, y) of f, in heatmap pixels.
        ground_truth (Tensor): (B, K, H, W) P_T of Eq. 6, a Gaussian at each argmax, normalised.
        ground_false (Tensor): (B, K, H, W) P_F of Eq. 10 (or Eq. 15), normalised.
    """
    keypoints: Tensor
    ground_truth: Tensor
    ground_false: Tensor


@MODELS.register_module()
class GroundFalseTargetGenerator:
    r"""From f's heatmaps, the "ground truth" and "ground false" distributions of RegDA.

    For keypoint k with predicted position :math:`\hat y_k = J(h_k)`:

    - P_T (Eq. 6): :math:`\mathcal{H}(\hat y_k)`, a Gaussian of std ``sigma`` at :math:`\hat y_k`
      (peak 1, cut to zero beyond ``truncate * sigma`` pixels per axis, as mmpose's
      ``MSRAHeatmap`` and the reference do), normalised over space.
    - P_F (Eq. 9-10): where f's wrong predictions tend to land, the other keypoints:
      :math:`\mathrm{clamp}(\sum_{k' \ne k} \mathcal{H}(\hat y_{k'}), 0, 1)`, normalised. The
      clamp is the reference's choice (overlapping keypoints do not pile up mass).
    - With ``region`` set (Eq. 15, for single-keypoint tasks where there are no other keypoints):
      :math:`\sum_{a \in A, a \ne \hat y_k} \mathcal{H}(a)`, normalised, A the rectangle of
      positions where keypoints can appear.

    Everything is computed in one batched pass on the input's device, in float32 or wider: each
    Gaussian is the outer product of two 1-D Gaussians, the sum over the other keypoints is the
    sum over all minus one's own, and the sum over A is separable too.

    Args:
        sigma (float): Gaussian std in heatmap pixels (paper: 2 on 64 x 64 heatmaps).
        truncate (float, optional): cut-off radius in units of sigma; None keeps the full
            Gaussian. Defaults to 3.
        region (Sequence[int], optional): ``(top, bottom, left, right)``, inclusive heatmap
            rows/columns of A for Eq. 15 (the paper's dSprites: (16, 47, 16, 47)).
    """

    def __init__(self,
                 sigma: float = 2.,
                 truncate: Optional[float] = 3.,
                 region: Optional[Sequence[int]] = None):
        if sigma <= 0:
            raise ValueError(f'GroundFalseTargetGenerator: sigma must be > 0, got {sigma}')
        if region is not None:
            region = tuple(int(v) for v in region)
            if len(region) != 4 or region[0] > region[1] or region[2] > region[3] or min(
                    region) < 0:
                raise ValueError('GroundFalseTargetGenerator: region must be (top, bottom, '
                                 f'left, right) with top <= bottom, left <= right, got {region}')
        self.sigma = float(sigma)
        self.truncate = truncate
        self.region = region

    def _gaussian_1d(self, centers: Tensor, size: int, dtype: torch.dtype) -> Tensor:
        """(...) integer centers -> (..., size) 1-D Gaussians over 0..size-1."""
        positions = torch.arange(size, device=centers.device, dtype=dtype)
        offset = positions - centers.to(dtype).unsqueeze(-1)
        gaussian = torch.exp(-offset**2 / (2 * self.sigma**2))
        if self.truncate is not None:
            gaussian = gaussian * (offset.abs() <= self.truncate * self.sigma)
        return gaussian

    def gaussians(self, keypoints: Tensor, height: int, width: int,
                  dtype: torch.dtype = torch.float32) -> Tensor:
        """H(y) for each (x, y) of ``keypoints`` (..., 2) -> (..., height, width), peak 1."""
        gx = self._gaussian_1d(keypoints[..., 0], width, dtype)
        gy = self._gaussian_1d(keypoints[..., 1], height, dtype)
        return gy.unsqueeze(-1) * gx.unsqueeze(-2)

    def _region_false_heatmaps(self, keypoints: Tensor, own: Tensor) -> Tensor:
        """Eq. 15: sum of the Gaussians at every position of A but the prediction itself."""
        height, width = own.shape[-2:]
        top, bottom, left, right = self.region
        if bottom >= height or right >= width:
            raise ValueError(f'GroundFalseTargetGenerator: region {self.region} does not fit '
                             f'heatmaps of size {height} x {width}')
        rows = torch.arange(top, bottom + 1, device=own.device)
        cols = torch.arange(left, right + 1, device=own.device)
        region_rows = self._gaussian_1d(rows, height, own.dtype).sum(dim=0)
        region_cols = self._gaussian_1d(cols, width, own.dtype).sum(dim=0)
        region_sum = region_rows.unsqueeze(-1) * region_cols.unsqueeze(-2)
        x, y = keypoints[..., 0], keypoints[..., 1]
        inside = ((y >= top) & (y <= bottom) & (x >= left) & (x <= right)).to(own.dtype)
        return (region_sum - own * inside[..., None, None]).clamp_min(0)

    @torch.no_grad()
    def __call__(self, heatmaps: Tensor) -> GroundFalseTargets:
        """
        Args:
            heatmaps (Tensor): f's output (logits or probabilities), (B, K, H, W).

        Returns:
            GroundFalseTargets: keypoints, P_T and P_F, on the input's device.
        """
        if heatmaps.dim() != 4:
            raise ValueError('GroundFalseTargetGenerator expects heatmaps of shape '
                             f'(B, K, H, W), got {tuple(heatmaps.shape)}')
        num_keypoints, height, width = heatmaps.shape[1:]
        # at least float32: under float16 autocast small Gaussian tails and the sum of 20 of
        # them would lose their precision
        dtype = (torch.promote_types(heatmaps.dtype, torch.float32)
                 if heatmaps.is_floating_point() else torch.float32)
        keypoints = heatmap_argmax(heatmaps)
        own = self.gaussians(keypoints, height, width, dtype)
        if self.region is not None:
            false_heatmaps = self._region_false_heatmaps(keypoints, own)
        elif num_keypoints < 2:
            raise ValueError(
                'GroundFalseTargetGenerator: with a single keypoint there are no other '
                'keypoints to build the ground-false distribution from (Eq. 9); set `region` '
                '(top, bottom, left, right) to use the region form of Eq. 15')
        else:
            others = own.sum(dim=1, keepdim=True) - own
            false_heatmaps = others.clamp(0, 1)
        return GroundFalseTargets(keypoints, normalize_spatially(own),
                                  normalize_spatially(false_heatmaps))
