from .regda_optim_wrapper_constructor import DEFAULT_OPTIM_PARTS, RegDAOptimWrapperConstructor

__all__ = ['DEFAULT_OPTIM_PARTS', 'RegDAOptimWrapperConstructor']
