from .gradient_scale import scale_gradient
from .model_parts import frozen, unwrap, unwrapped_children

__all__ = ['frozen', 'scale_gradient', 'unwrap', 'unwrapped_children']
