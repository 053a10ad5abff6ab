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


def resolve_resume(cfg: Config, resume: Optional[str]) -> Optional[str]:
    """Turn ``--resume [PATH]`` into ``cfg.resume`` / ``cfg.load_from``; returns a line to log.

    ``--resume PATH`` continues from PATH. ``--resume`` alone continues from the latest
    checkpoint of the work directory (mmengine's ``last_checkpoint`` file); with none there,
    the run starts as without ``--resume``, from the config's ``load_from`` if it has one:
    mmengine's own auto-resume sets ``load_from`` aside in that case, so an adaptation run would
    start from an untrained model ("Auto resumed from the latest checkpoint None"). Resolving it
    here, before the Runner is built, also lets the checkpoint be checked first
    (:mod:`.checkpoint_checks`). Call it after ``--cfg-options`` are merged: ``--resume`` wins
    over a ``load_from`` given there.
    """
    if resume is None:
        return None
    if resume != 'auto':
        cfg.resume, cfg.load_from = True, resume
        return None
    from mmengine.runner.checkpoint import find_latest_checkpoint
    marker = osp.join(cfg.work_dir, 'last_checkpoint')
    latest = find_latest_checkpoint(cfg.work_dir) if osp.isfile(marker) else None
    if latest:
        cfg.resume, cfg.load_from = True, latest
        return f'--resume: continuing from {latest}, the latest checkpoint of {cfg.work_dir}'
    cfg.resume = False
    start = (f'starting from load_from={cfg.load_from}' if cfg.get('load_from', None)
             else 'starting from the initialisation')
    return f'--resume: nothing to resume in {cfg.work_dir} (no last_checkpoint); {start}'


def check_start_checkpoint(runner: Runner, field: Optional[str] = None) -> None:
    """Refuse, before it is loaded, a checkpoint that cannot start the runner's run (see
    :mod:`.checkpoint_checks`); log the notes of an adaptation model's new parts."""
    from mmengine.logging import print_log

    from .checkpoint_checks import check_start_checkpoint as check
    for note in check(runner.cfg, runner.model, field):
        print_log(note, logger='current')


class _SaveMetricsHook(Hook):
    """Writes the test metrics to a file (``tools/test.py --out``)."""

    def __init__(self, out_file: str):
        self.out_file = out_file

    def after_test_epoch(self, runner, metrics=None):
        if metrics is not None:
            from ..utils import atomic_output
            with atomic_output(self.out_file) as tmp:  # the format follows the extension
                mmengine.dump(metrics, tmp)


def save_metrics_to(runner: Runner, out_file: str) -> None:
    runner.register_hook(_SaveMetricsHook(out_file), 'LOWEST')


def build_runner(cfg: Config, launcher: str) -> Runner:
    """Build the Runner; on a machine without CUDA a launcher starts on gloo (see compat)."""
    cfg.launcher = launcher
    setup_cpu_distributed(cfg, launcher)
    if 'preprocess_cfg' in cfg:
        cfg.model.setdefault('data_preprocessor', cfg.get('preprocess_cfg', {}))
    return Runner.from_cfg(cfg)
