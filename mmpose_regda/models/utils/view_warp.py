"""Carrying heatmaps from one augmented view of an image into another (mean-teacher
consistency): the affine between the views, in heatmap pixels, and the warp itself."""
from typing import Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


def view_to_view_matrices(data_samples: Sequence, input_size: Tuple[int, int],
                          heatmap_size: Tuple[int, int], source: str = 'teacher_warp',
                          destination: str = 'student_warp') -> Tensor:
    """(B, 3, 3): heatmap pixels of each sample's ``source`` view -> heatmap pixels of its
    ``destination`` view, from the warps ``MeanTeacherViews`` records (original image -> input
    pixels). Heatmap pixel ``i`` is input position ``i * input / heatmap``, as mmpose's codecs
    encode and decode."""
    to_heatmap = np.diag([heatmap_size[0] / input_size[0], heatmap_size[1] / input_size[1], 1.])
    matrices = [to_heatmap @ np.asarray(s.metainfo[destination], dtype=np.float64) @
                np.linalg.inv(np.asarray(s.metainfo[source], dtype=np.float64)) @
                np.linalg.inv(to_heatmap) for s in data_samples]
    return torch.as_tensor(np.stack(matrices), dtype=torch.float32)


def warp_heatmaps(heatmaps: Tensor, matrices: Tensor) -> Tensor:
    """Each sample's heatmaps as the other view sees them: ``out[b, k, q] = heatmaps[b, k,
    inv(matrices[b]) q]``, bilinear, zero outside the source view.

    Args:
        heatmaps (Tensor): (B, K, H, W) in the source view.
        matrices (Tensor): (B, 3, 3), source heatmap pixels -> destination heatmap pixels.

    Returns:
        Tensor: (B, K, H, W) in the destination view.
    """
    B, _, H, W = heatmaps.shape
    # pixel -> normalised coordinates of grid_sample with align_corners=True (pixel centres
    # at -1 and 1 for the first and the last)
    to_normalised = heatmaps.new_tensor([[2. / (W - 1), 0., -1.], [0., 2. / (H - 1), -1.],
                                         [0., 0., 1.]])
    inverse = torch.linalg.inv(matrices.to(heatmaps.device, torch.float32))
    theta = to_normalised @ inverse @ torch.linalg.inv(to_normalised)
    grid = F.affine_grid(theta[:, :2].to(heatmaps.dtype), [B, 1, H, W], align_corners=True)
    return F.grid_sample(heatmaps, grid, mode='bilinear', padding_mode='zeros',
                         align_corners=True)
