from .gradient_scale import scale_gradient
from .heatmap_accuracy import heatmap_pck_accuracy
from .heatmaps import (heatmap_argmax, heatmap_discrepancy, keypoint_disparity, normalize_spatially,
                       spatial_softmax)
from .model_parts import frozen, unwrap, unwrapped_children
from .view_warp import view_to_view_matrices, warp_heatmaps

__all__ = [
    'frozen', 'heatmap_argmax', 'heatmap_discrepancy', 'heatmap_pck_accuracy',
    'keypoint_disparity', 'normalize_spatially', 'scale_gradient', 'spatial_softmax', 'unwrap',
    'unwrapped_children', 'view_to_view_matrices', 'warp_heatmaps'
]
