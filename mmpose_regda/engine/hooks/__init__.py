from .non_finite_loss_hook import NonFiniteLossHook
from .regda_hook import RegDAHook

__all__ = ['NonFiniteLossHook', 'RegDAHook']
