from .launch import (build_runner, enable_amp, enable_visualization, resolve_work_dir,
                     save_metrics_to)

__all__ = [
    'build_runner', 'enable_amp', 'enable_visualization', 'resolve_work_dir', 'save_metrics_to'
]
