"""What ``tools/train.py`` and ``tools/test.py`` share: turning command-line flags into config.

The flags and their meaning follow MMPose's own tools, so MMPose habits carry over; the
differences are the CPU distributed start-up and a clear refusal where ``--amp`` cannot work.
"""
import os.path as osp
from typing import Optional

import mmengine
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from ..utils.compat import setup_cpu_distributed


def resolve_work_dir(cfg: Config, config_path: str, work_dir: Optional[str]) -> None:
    """Work dir priority, as in MMPose: command line > config > ``work_dirs/<config name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


def enable_visualization(cfg: Config, show_dir: Optional[str], show: bool = False,
                         interval: int = 1, wait_time: float = 1) -> None:
    """Turn on the config's ``PoseVisualizationHook`` for ``--show`` / ``--show-dir``."""
    if not show and show_dir is None:
        return
    if 'visualization' not in cfg.get('default_hooks', {}):
        raise KeyError('--show/--show-dir need `default_hooks.visualization` in the config, '
                       'e.g. visualization=dict(type="PoseVisualizationHook", enable=False); '
                       "it is set by 'mmpose::_base_/default_runtime.py'.")
    vis = cfg.default_hooks.visualization
    vis.enable = True
    vis.show = show
    if show:
        vis.wait_time = wait_time
    vis.out_dir = show_dir
    vis.interval = interval


def enable_amp(cfg: Config) -> None:
    """``--amp``: mixed precision, as MMPose's ``tools/train.py`` sets it.

    The top level of ``optim_wrapper`` becomes ``type='AmpOptimWrapper'`` with a dynamic loss
    scale. For a single optimizer that is mmengine's AMP wrapper (CUDA only); for the adaptation
    models' one-optimizer-per-part config (``constructor='PartOptimWrapperConstructor'``) it
    switches every part to mixed precision at once, float16 with one loss scale per objective,
    or bfloat16 with ``optim_wrapper.dtype='bfloat16'`` (also on CPU).
    """
    optim_wrapper = cfg.optim_wrapper
    if optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
        return  # already on in the config
    if 'constructor' not in optim_wrapper:
        import torch
        if not torch.cuda.is_available():
            raise RuntimeError('--amp needs a CUDA device for this config: mmengine\'s '
                               'AmpOptimWrapper refuses to run on CPU. Drop --amp here.')
    optim_wrapper.type = 'AmpOptimWrapper'
    optim_wrapper.setdefault('loss_scale', 'dynamic')


class _SaveMetricsHook(Hook):
    """Writes the test metrics to a file (``tools/test.py --out``)."""

    def __init__(self, out_file: str):
        self.out_file = out_file

    def after_test_epoch(self, runner, metrics=None):
        if metrics is not None:
            mmengine.dump(metrics, self.out_file)


def save_metrics_to(runner: Runner, out_file: str) -> None:
    runner.register_hook(_SaveMetricsHook(out_file), 'LOWEST')


def build_runner(cfg: Config, launcher: str) -> Runner:
    """Build the Runner; on a machine without CUDA a launcher starts on gloo (see compat)."""
    cfg.launcher = launcher
    setup_cpu_distributed(cfg, launcher)
    if 'preprocess_cfg' in cfg:
        cfg.model.setdefault('data_preprocessor', cfg.get('preprocess_cfg', {}))
    return Runner.from_cfg(cfg)
