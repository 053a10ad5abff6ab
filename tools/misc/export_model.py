"""Export a trained plugin model (source only, KL, RegDA or any adaptation method) as a plain
MMPose ``TopdownPoseEstimator``: a config and a checkpoint that stock MMPose (``init_model``,
``MMPoseInferencer``, its tools) loads without the plugin.

    python tools/misc/export_model.py CONFIG CHECKPOINT --out-dir DIR

writes ``DIR/<config name>.py`` and ``DIR/<config name>-<sha256[:8]>_<date>.pth`` (MMPose's
``publish_model.py`` naming). psi and f are kept, mapped onto MMPose's ``HeatmapHead`` (the
neck's deconvolutions become the head's); f', other adaptation parts, optimizer state, message
hub and schedulers are left out. See ``mmpose_regda/utils/stock_export.py`` for how the
coordinates stay the plugin's and how the scores differ.

Before writing anything the checkpoint is read and its weights checked against the config's
model (another architecture or keypoint count is refused, naming the differing weights). Then
both the plugin model and the exported model run on a few images (``--check-images``, by
default the first images of the config's test data, else of its training data): the tool warns
with the numbers when a keypoint is more than a pixel from the plugin model's or comes out
invalid in MMPose (peak <= 0).
"""
import argparse
import os.path as osp
import sys
import warnings

# mmengine imports pkg_resources, which setuptools deprecates on every import: noise, not news
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
from mmengine.config import Config, DictAction  # noqa: E402

import mmpose_regda  # noqa: F401,E402  registers the plugin and applies the upstream fixes
from mmpose_regda.utils import stock_export as se  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='the config the checkpoint was trained with')
    parser.add_argument('checkpoint', help='the checkpoint to export')
    parser.add_argument('--out-dir', required=True, help='where the config and checkpoint go')
    parser.add_argument(
        '--logit-offset', default='auto',
        help="KL heads: 'auto' (default) shifts each keypoint's logits so that they are "
        'positive on the check images with room to spare, as MMPose\'s decoding needs (without '
        'images: by an estimate from the batch-norm statistics); a number adds that constant '
        'instead (0: the logits as trained)')
    parser.add_argument(
        '--keep-flip-test', action='store_true',
        help="KL heads: keep the config's flip test, which MMPose runs by averaging logits (the "
        'plugin averages probabilities: coordinates can differ); by default the export tests '
        'without flip, and predicts what the plugin model predicts without flip')
    parser.add_argument(
        '--dataset-meta', metavar='FILE_OR_LAYOUT',
        help='the keypoint metainfo, for checkpoints without meta.dataset_meta: a metainfo '
        "file (mmpose's configs/_base_/datasets/onehand10k.py) or one of the plugin's layouts "
        '(hand21, body16, sprite1); replaces the checkpoint\'s when given')
    parser.add_argument(
        '--check-images', nargs='+', metavar='IMAGE_OR_COCO',
        help='images (the whole image is the box) or COCO .json files (their boxes) to check '
        'the export on; by default the first '
        f'{se.NUM_CHECK_IMAGES} instances of the config\'s test data, else of its training data')
    parser.add_argument(
        '--weights', choices=('student', 'teacher'), default='student',
        help='which model of a mean-teacher run to export: the student (psi and f, what the '
        'run evaluates) or its EMA teacher (UDAPE reports the teacher)')
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


def warn(message: str) -> None:
    print(f'warning: {message}', file=sys.stderr)


def export(args):
    """Everything but the writing: the exported config, checkpoint, report and check."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    checkpoint = se.read_plugin_checkpoint(args.checkpoint)
    if args.weights == 'teacher':
        checkpoint = se.teacher_weights(checkpoint)
    dataset_meta = se.load_dataset_meta(args.dataset_meta) if args.dataset_meta else None
    plugin_model = se.build_plugin_model(cfg, checkpoint, args.checkpoint)
    if args.check_images:
        items = se.check_items_from_files(args.check_images)
    else:
        items = se.check_items_from_config(cfg)
    kl_head = (cfg.model.get('head') or {}).get('type') in se.KL_HEADS
    calibrate = kl_head and args.logit_offset == 'auto' and bool(items)
    # calibration: the logits as trained, measured on the check crops, give the offsets
    offset = 0. if calibrate else args.logit_offset
    config, exported, report = se.export_stock_model(cfg, checkpoint, offset, args.keep_flip_test,
                                                     dataset_meta)
    stock_model = se.build_stock_model(config, exported)
    check = None
    if items:
        # each model on the crops its own config makes: stock MMPose crops with the export's
        meta = exported['meta']['dataset_meta']
        batch, stock_batch = se.check_batch(cfg, items, meta), se.check_batch(config, items, meta)
        if calibrate:
            offsets = se.calibrated_logit_offsets(se.keypoint_logits(stock_model, stock_batch))
            config, exported, report = se.export_stock_model(
                cfg, checkpoint, offsets, args.keep_flip_test, dataset_meta)
            stock_model = se.build_stock_model(config, exported)
        check = se.check_export(plugin_model, stock_model, batch, items, stock_batch)
    report['calibrated'] = calibrate
    return config, exported, report, check


def main(argv=None):
    args = parse_args(argv)
    try:
        config, exported, report, check = export(args)
    except se.CheckpointRefused as e:  # names the checkpoint (and the config) itself
        sys.exit(f'error: {e}')
    except se.ExportError as e:
        sys.exit(f'error: exporting {args.checkpoint} with {args.config}: {e}')
    name = osp.splitext(osp.basename(args.config))[0]
    whose = " (the mean teacher's)" if args.weights == 'teacher' else ''
    header = (f'# Exported by mmpose-regda from {osp.basename(args.config)}\n'
              f'# ({report["estimator"]}): a plain MMPose model, psi and f only{whose}.\n'
              f'# Test crop: {report["crop"]}.\n'
              f'# Flip test: {"on" if report["flip_test"] else "off"}.\n')
    config_path, checkpoint_path = se.write_export(config, exported, args.out_dir, name, header)
    print(f'config: {config_path}\ncheckpoint: {checkpoint_path}')
    if report['folded_neck_layers']:
        print(f'neck: {report["folded_neck_layers"] // 3} deconvolutions moved into the head')
    if report['dropped']:
        parts = sorted({key.split('.')[0] for key in report['dropped']})
        print(f'left out: {len(report["dropped"])} tensors of {", ".join(parts)}')
    if report['logit_offsets'] is not None:
        offsets = report['logit_offsets']
        how = ('measured on the check images' if report['calibrated'] else
               'estimated from batch-norm statistics' if args.logit_offset == 'auto' else
               'as given')
        print(f'logit offsets per keypoint ({how}): {min(offsets):.3g} to {max(offsets):.3g}')
    if check is None:
        warn('the export was not checked against the plugin model: no images of the config\'s '
             'data are readable here; give some with --check-images')
    elif check['passed']:
        print(f'check: {se.describe_check(check)}')
    else:
        advice = []
        if check['invalid']:
            advice.append("MMPose marks a keypoint invalid where its peak is <= 0: export with "
                          "--logit-offset auto and images like those the model will see")
        if check['over_px'] and report['crop'] != se.DEFAULT_CROP_NOTE:
            advice.append(f'The crops differ: {report["crop"]}')
        if check['over_px'] and report['flip_test'] and report['logit_offsets'] is not None:
            advice.append('With --keep-flip-test MMPose averages logits where the plugin '
                          'averages probabilities: export without it')
        warn(f'the export does not predict what the plugin model predicts: '
             f'{se.describe_check(check)}' + ''.join(f'. {a}' for a in advice))


if __name__ == '__main__':
    main()
