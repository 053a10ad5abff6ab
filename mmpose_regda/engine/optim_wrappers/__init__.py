from .part_optim_wrapper_constructor import PartOptimWrapperConstructor
from .part_optim_wrapper_dict import PartOptimWrapperDict

__all__ = ['PartOptimWrapperConstructor', 'PartOptimWrapperDict']
