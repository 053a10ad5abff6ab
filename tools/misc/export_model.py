"""Export a trained plugin model (source only, KL, RegDA or any adaptation method) as a plain
MMPose ``TopdownPoseEstimator``: a config and a checkpoint that stock MMPose (``init_model``,
``MMPoseInferencer``, its tools) loads without the plugin.

    python tools/misc/export_model.py CONFIG CHECKPOINT --out-dir DIR

writes ``DIR/<config name>.py`` and ``DIR/<config name>-<sha256[:8]>_<date>.pth`` (MMPose's
``publish_model.py`` naming). psi and f are kept, mapped onto MMPose's ``HeatmapHead`` (the
neck's deconvolutions become the head's); f', other adaptation parts, optimizer state, message
hub and schedulers are left out. See ``mmpose_regda/utils/stock_export.py`` for how the
coordinates stay the plugin's and how the scores differ.
"""
import argparse
import os.path as osp
import sys
import warnings

# mmengine imports pkg_resources, which setuptools deprecates on every import: noise, not news
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
from mmengine.config import Config, DictAction  # noqa: E402

import mmpose_regda  # noqa: F401,E402  registers the plugin and applies the upstream fixes
from mmpose_regda.utils.stock_export import (ExportError, export_stock_model,  # noqa: E402
                                             write_export)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='the config the checkpoint was trained with')
    parser.add_argument('checkpoint', help='the checkpoint to export')
    parser.add_argument('--out-dir', required=True, help='where the config and checkpoint go')
    parser.add_argument(
        '--logit-offset', default='auto',
        help="KL heads: 'auto' (default) shifts each keypoint's logits by minus its average "
        'over the training data, so that peaks are positive, as MMPose\'s decoding needs; a '
        'number adds that constant instead (0: the logits as trained)')
    parser.add_argument(
        '--keep-flip-test', action='store_true',
        help="KL heads: keep the config's flip test, which MMPose runs by averaging logits (the "
        'plugin averages probabilities: coordinates can differ); by default the export tests '
        'without flip, and predicts what the plugin model predicts without flip')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if args.logit_offset != 'auto':
        try:
            args.logit_offset = float(args.logit_offset)
        except ValueError:
            parser.error(f"--logit-offset: expected 'auto' or a number, got "
                         f'{args.logit_offset!r}')
    return args


def main(argv=None):
    args = parse_args(argv)
    from mmengine.runner.checkpoint import _load_checkpoint
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    checkpoint = _load_checkpoint(args.checkpoint, map_location='cpu')
    name = osp.splitext(osp.basename(args.config))[0]
    try:
        config, exported, report = export_stock_model(cfg, checkpoint, args.logit_offset,
                                                     args.keep_flip_test)
    except ExportError as e:
        sys.exit(f'error: {args.config}: {e}')
    header = (f'# Exported by mmpose-regda from {osp.basename(args.config)}\n'
              f'# ({report["estimator"]}): a plain MMPose model, psi and f only.\n'
              f'# Test crop: {report["crop"]}.\n'
              f'# Flip test: {"on" if report["flip_test"] else "off"}.\n')
    config_path, checkpoint_path = write_export(config, exported, args.out_dir, name, header)
    print(f'config: {config_path}\ncheckpoint: {checkpoint_path}')
    if report['folded_neck_layers']:
        print(f'neck: {report["folded_neck_layers"] // 3} deconvolutions moved into the head')
    if report['dropped']:
        parts = sorted({key.split('.')[0] for key in report['dropped']})
        print(f'left out: {len(report["dropped"])} tensors of {", ".join(parts)}')
    if report['logit_offsets'] is not None:
        offsets = report['logit_offsets']
        print(f'logit offsets per keypoint: {min(offsets):.3g} to {max(offsets):.3g}')


if __name__ == '__main__':
    main()
