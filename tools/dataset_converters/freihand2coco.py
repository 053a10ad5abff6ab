"""Convert FreiHand's training set to COCO json in the shared 21-keypoint hand order.

    python tools/dataset_converters/freihand2coco.py --root data/freihand \
        --out-dir data/freihand/annotations [--versions gs hom sample auto]

writes ``freihand_train.json`` and ``freihand_test.json`` (a holdout of 10% of the annotations,
drawn with seed 42; all versions of a frame on the same side); see
``mmpose_regda/datasets/converters/freihand.py``.
"""
import argparse

from mmpose_regda.datasets.converters import convert_freihand
from mmpose_regda.datasets.converters.coco_writer import run_cli
from mmpose_regda.datasets.converters.freihand import VERSIONS


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--root', required=True,
                        help='FreiHand folder, holding training_xyz.json, training_K.json and '
                        'training/rgb/')
    parser.add_argument('--out-dir', required=True, help='where the json files go')
    parser.add_argument('--versions', nargs='+', choices=VERSIONS, default=['gs'],
                        help='image versions to include (default: gs, the first)')
    parser.add_argument('--test-fraction', type=float, default=0.1,
                        help='share of annotations held out for testing (default 0.1)')
    parser.add_argument('--seed', type=int, default=42, help='seed of the holdout (default 42)')
    args = parser.parse_args(argv)
    run_cli(convert_freihand, root=args.root, out_dir=args.out_dir, versions=args.versions,
            test_fraction=args.test_fraction, seed=args.seed)


if __name__ == '__main__':
    main()
