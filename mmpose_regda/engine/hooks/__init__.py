from .adaptation_schedule_hook import AdaptationScheduleHook

__all__ = ['AdaptationScheduleHook']
