from .gradient_scale import frozen_parameters, scale_gradient
from .objective_update import minimise_over_parts

__all__ = ['frozen_parameters', 'minimise_over_parts', 'scale_gradient']
