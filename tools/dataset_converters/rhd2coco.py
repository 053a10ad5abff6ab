"""Convert Rendered Hand Pose (RHD) to COCO json in the shared 21-keypoint hand order.

    python tools/dataset_converters/rhd2coco.py --root data/rhd --out-dir data/rhd/annotations

writes ``rhd_train.json`` (RHD's training set) and ``rhd_test.json`` (its evaluation set), one
instance per hand; see ``mmpose_regda/datasets/converters/rhd.py``.
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
    args = parser.parse_args(argv)
    run_cli(convert_rhd, root=args.root, out_dir=args.out_dir, min_visible=args.min_visible,
            min_box_size=args.min_box_size, splits=args.splits)


if __name__ == '__main__':
    main()
