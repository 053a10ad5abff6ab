from .adaptation_start import adaptation_start_options
from .atomic_output import atomic_output
from .compat import (apply_all, install_mmcv_ext_placeholder, register_checkpoint_safe_globals,
                     setup_cpu_distributed)

__all__ = [
    'adaptation_start_options', 'apply_all', 'atomic_output', 'install_mmcv_ext_placeholder',
    'register_checkpoint_safe_globals', 'setup_cpu_distributed'
]
