from .gradient_scale import frozen_parameters, scale_gradient

__all__ = ['frozen_parameters', 'scale_gradient']
