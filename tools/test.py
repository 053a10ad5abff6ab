"""Evaluate a checkpoint on the config's test set (e.g. PCK by part on the target domain).

Same command line as MMPose's ``tools/test.py``. The checkpoint evaluated is the one given: report
the final model of a run, never one picked by its score on the test set.
"""
import argparse
import os
import sys
import warnings

# mmengine imports pkg_resources, which setuptools deprecates on every import: noise, not news
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
from mmengine.config import Config, DictAction  # noqa: E402

import mmpose_regda  # noqa: F401,E402  registers the plugin and applies the upstream fixes
from mmpose_regda.apis import (CheckpointMismatch, OutputNotWritable,  # noqa: E402
                               build_runner, check_out_writable, check_start_checkpoint,
                               enable_visualization, resolve_work_dir, save_metrics_to)
from mmpose_regda.apis.launch import describe_collective_timeout  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='MMPose-RegDA test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the directory to save evaluation results')
    parser.add_argument('--out', help='file (.json/.yaml/.pkl) to save the metrics to')
    parser.add_argument('--dump', type=str,
                        help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='override config settings, key=value')
    parser.add_argument('--show-dir', help='directory to save visualized test images')
    parser.add_argument('--show', action='store_true', help='display the test images')
    parser.add_argument('--interval', type=int, default=1, help='visualize every N samples')
    parser.add_argument('--wait-time', type=float, default=1, help='seconds per shown window')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg, args):
    """Merge the command line into the config."""
    if not os.path.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {args.checkpoint}')
    cfg.load_from = args.checkpoint
    resolve_work_dir(cfg, args.config, args.work_dir)
    enable_visualization(cfg, args.show_dir, args.show, args.interval, args.wait_time)
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--dump must name a .pkl file, got {args.dump}')
        dump_metric = dict(type='DumpResults', out_file_path=args.dump)
        evaluators = cfg.test_evaluator
        if not isinstance(evaluators, (list, tuple)):
            evaluators = [evaluators]
        cfg.test_evaluator = [*evaluators, dump_metric]
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    try:
        # the metrics are written last: a folder that cannot take them must not cost the run
        for flag, out_file in (('--out', args.out), ('--dump', args.dump)):
            if out_file:
                check_out_writable(out_file, flag)
        runner = build_runner(cfg, args.launcher)
        # mmengine would skip weights that do not fit and evaluate a random head; an evaluator
        # of f' (pred_field='adv_pred_instances') needs a checkpoint that has f'
        # and a model trained on one keypoint order scores another order wrong
        check_start_checkpoint(runner, field='', evaluators=cfg.get('test_evaluator', None),
                               dataset_meta=runner.test_dataloader.dataset.metainfo)
    except (CheckpointMismatch, OutputNotWritable) as e:
        sys.exit(f'error: {e} (nothing was evaluated)')
    if args.out:
        save_metrics_to(runner, args.out)
    try:
        runner.test()
    except RuntimeError as e:
        message = describe_collective_timeout(e, cfg)
        if message is None:
            raise
        sys.exit(f'error: {message}')


if __name__ == '__main__':
    main()
