"""Convert Rendered Hand Pose (RHD) to COCO json in the shared 21-keypoint hand order.

    python tools/dataset_converters/rhd2coco.py --root data/rhd --out-dir data/rhd/annotations

writes ``rhd_train.json`` (RHD's training set) and ``rhd_test.json`` (its evaluation set), one
instance per hand; see ``mmpose_regda/datasets/converters/rhd.py``. ``--reference`` selects and
boxes hands as the reference implementation (what the paper task configs expect):

    python tools/dataset_converters/rhd2coco.py --root data/rhd --out-dir data/rhd/annotations \
        --reference
"""
import argparse

from mmpose_regda.datasets.converters import convert_rhd
from mmpose_regda.datasets.converters.coco_writer import run_cli


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--root', required=True,
                        help='RHD folder, holding training/ and evaluation/')
    parser.add_argument('--out-dir', required=True, help='where the json files go')
    parser.add_argument('--min-visible', type=int, default=16,
                        help='keep hands with more visible keypoints than this (default 16)')
    parser.add_argument('--min-box-size', type=float, default=64.,
                        help='keep hands whose box is longer than this, in px (default 64)')
    parser.add_argument('--splits', nargs='+', choices=['train', 'test'],
                        default=['train', 'test'])
    parser.add_argument('--box', choices=['visible', 'all'], default=None,
                        help='the box written: of the visible keypoints (default) or of all 21')
    parser.add_argument('--size-of', choices=['box', 'crop'], default=None,
                        help='what --min-box-size measures: the box (default) or the '
                        "reference's 1.5x square crop")
    parser.add_argument('--max-overlap', type=float, default=None,
                        help="leave out hands whose crop the other hand's box covers by at "
                        'least this fraction (default: keep them)')
    parser.add_argument('--reference', action='store_true',
                        help="the reference implementation's selection: --box all --size-of "
                        'crop --max-overlap 0.3 (each can still be set)')
    args = parser.parse_args(argv)
    preset = dict(box='all', size_of='crop', max_overlap=0.3) if args.reference else dict(
        box='visible', size_of='box', max_overlap=None)
    chosen = {k: getattr(args, k) for k in preset if getattr(args, k) is not None}
    run_cli(convert_rhd, root=args.root, out_dir=args.out_dir, min_visible=args.min_visible,
            min_box_size=args.min_box_size, splits=args.splits, **{**preset, **chosen})


if __name__ == '__main__':
    main()
