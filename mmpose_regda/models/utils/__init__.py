from .gradient_scale import scale_gradient
from .heatmap_accuracy import heatmap_pck_accuracy
from .model_parts import frozen, unwrap, unwrapped_children

__all__ = ['frozen', 'heatmap_pck_accuracy', 'scale_gradient', 'unwrap', 'unwrapped_children']
