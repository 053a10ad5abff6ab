"""Train a pose model (source only, or RegDA adaptation) from an MMPose config.

Same command line as MMPose's ``tools/train.py``. Without CUDA, ``--launcher pytorch`` (as used by
``tools/dist_train.sh``) runs distributed on gloo over CPU processes.
"""
import argparse
import os
import sys
import warnings

# mmengine imports pkg_resources, which setuptools deprecates on every import: noise, not news
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
from mmengine.config import Config, DictAction  # noqa: E402

import mmpose_regda  # noqa: F401,E402  registers the plugin and applies the upstream fixes
from mmpose_regda.apis import (AmpNotSupported, CheckpointMismatch, NothingToTrain,  # noqa: E402
                               WorkDirBusy, build_runner, check_amp_device,
                               check_start_checkpoint, check_trains_something, enable_amp,
                               enable_visualization, lock_work_dir, resolve_resume,
                               resolve_work_dir, unlock_work_dir)
from mmpose_regda.apis.launch import describe_collective_timeout  # noqa: E402
from mmpose_regda.utils.compat import CheckpointSaveError, UnsafeCheckpoint  # noqa: E402

#: Refusals of a run that cannot do what was asked: one line, before any work is spent
REFUSALS = (AmpNotSupported, CheckpointMismatch, NothingToTrain, WorkDirBusy)
#: Failures during the run that the plugin explains in one line (a weights-only refusal of an
#: ``init_cfg`` checkpoint, a checkpoint that could not be saved)
EXPLAINED = (UnsafeCheckpoint, CheckpointSaveError)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a pose model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint; without a path, from the latest checkpoint in the '
        'work directory')
    parser.add_argument(
        '--amp', action='store_true', default=False,
        help='enable automatic-mixed-precision training: float16 on CUDA; without CUDA, only '
        'the adaptation configs, in bfloat16 (--cfg-options optim_wrapper.dtype=bfloat16)')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate checkpoints during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by the actual over the base batch size')
    parser.add_argument('--show-dir', help='directory to save visualized validation images')
    parser.add_argument('--show', action='store_true', help='display the validation images')
    parser.add_argument('--interval', type=int, default=1, help='visualize every N samples')
    parser.add_argument('--wait-time', type=float, default=1, help='seconds per shown window')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value (e.g. train_cfg.max_epochs=2)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg, args):
    """Merge the command line into the config."""
    resolve_work_dir(cfg, args.config, args.work_dir)
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    enable_visualization(cfg, args.show_dir, args.show, args.interval, args.wait_time)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    # after --cfg-options: a dtype given there (bfloat16) decides whether --amp can run here
    if args.amp:
        enable_amp(cfg)
    check_amp_device(cfg)
    # after --cfg-options, so that options touching the validation loop do not collide with it
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    # last: the work dir and a load_from of --cfg-options are known
    note = resolve_resume(cfg, args.resume)
    if note:
        print(note, flush=True)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    try:
        cfg = merge_args(cfg, args)
        # before the Runner makes its log files: a second training here would interleave them
        lock_work_dir(cfg.work_dir)
    except REFUSALS as e:
        sys.exit(f'error: {e}')
    try:
        train(cfg, args.launcher)
    finally:
        unlock_work_dir(cfg.work_dir)  # the kernel would at exit; main() may run in a test


def train(cfg, launcher):
    """Build the Runner, refuse a start that cannot train, and train."""
    try:
        runner = build_runner(cfg, launcher)
        check_start_checkpoint(runner)
        check_trains_something(runner)
    except REFUSALS as e:
        sys.exit(f'error: {e}')
    try:
        runner.train()
    except EXPLAINED as e:
        sys.exit(f'error: {e}')
    except RuntimeError as e:
        message = describe_collective_timeout(e, cfg)
        if message is None:
            raise
        sys.exit(f'error: {message}')


if __name__ == '__main__':
    main()
