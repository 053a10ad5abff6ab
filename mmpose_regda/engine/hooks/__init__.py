from .adaptation_schedule_hook import AdaptationScheduleHook
from .channels_last_hook import ChannelsLastHook
from .non_finite_loss_hook import NonFiniteLossHook

__all__ = ['AdaptationScheduleHook', 'ChannelsLastHook', 'NonFiniteLossHook']
