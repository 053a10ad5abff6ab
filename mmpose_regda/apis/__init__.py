from .checkpoint_checks import CheckpointMismatch
from .launch import (DEFAULT_DIST_TIMEOUT, AmpNotSupported, NothingToTrain, OutputNotWritable,
                     WorkDirBusy, build_runner, check_amp_device, check_out_writable,
                     check_start_checkpoint, check_trains_something, enable_amp,
                     enable_visualization, lock_work_dir, resolve_resume, resolve_work_dir,
                     save_metrics_to, unlock_work_dir)

__all__ = [
    'AmpNotSupported', 'CheckpointMismatch', 'DEFAULT_DIST_TIMEOUT', 'NothingToTrain',
    'OutputNotWritable', 'WorkDirBusy', 'build_runner', 'check_amp_device',
    'check_out_writable', 'check_start_checkpoint', 'check_trains_something', 'enable_amp',
    'enable_visualization', 'lock_work_dir', 'resolve_resume', 'resolve_work_dir',
    'save_metrics_to', 'unlock_work_dir'
]
