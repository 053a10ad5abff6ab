"""Convert Hand-3D-Studio (H3D) to COCO json in the shared 21-keypoint hand order.

    python tools/dataset_converters/h3d2coco.py --root data/h3d --out-dir data/h3d/annotations

writes ``h3d_train.json`` and ``h3d_test.json`` (3200 frames drawn with seed 42). The raw layout
read is an ASSUMED one (``<root>/annotations.json`` + ``<root>/images/``): see
``mmpose_regda/datasets/converters/h3d.py``.
"""
import argparse

from mmpose_regda.datasets.converters import convert_h3d
from mmpose_regda.datasets.converters.coco_writer import run_cli


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--root', required=True,
                        help='H3D folder, holding annotations.json and images/')
    parser.add_argument('--out-dir', required=True, help='where the json files go')
    parser.add_argument('--num-test', type=int, default=3200,
                        help='how many frames the test set draws (default 3200)')
    parser.add_argument('--seed', type=int, default=42, help='seed of the draw (default 42)')
    args = parser.parse_args(argv)
    run_cli(convert_h3d, root=args.root, out_dir=args.out_dir, num_test=args.num_test,
            seed=args.seed)


if __name__ == '__main__':
    main()
