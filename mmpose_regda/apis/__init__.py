from .checkpoint_checks import CheckpointMismatch
from .launch import (build_runner, check_start_checkpoint, enable_amp, enable_visualization,
                     resolve_resume, resolve_work_dir, save_metrics_to)

__all__ = [
    'CheckpointMismatch', 'build_runner', 'check_start_checkpoint', 'enable_amp',
    'enable_visualization', 'resolve_resume', 'resolve_work_dir', 'save_metrics_to'
]
