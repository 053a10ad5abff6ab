from .adaptation_schedule_hook import AdaptationScheduleHook
from .non_finite_loss_hook import NonFiniteLossHook

__all__ = ['AdaptationScheduleHook', 'NonFiniteLossHook']
