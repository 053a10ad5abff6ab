from .inverse_decay_scheduler import InverseDecayLR, InverseDecayParamScheduler

__all__ = ['InverseDecayLR', 'InverseDecayParamScheduler']
