"""Convert Leeds Sports Pose (LSP, or LSP-extended) to COCO json in MPII's 16-keypoint layout.

    python tools/dataset_converters/lsp2coco.py --root data/lsp --out-dir data/lsp/annotations \
        [--split all] [--visibility auto]

writes ``lsp_train.json`` (first 1000 images) and ``lsp_test.json`` (the rest), or
``lsp_all.json``; see ``mmpose_regda/datasets/converters/lsp.py`` (also for the flag's meaning).
"""
import argparse

from mmpose_regda.datasets.converters import convert_lsp
from mmpose_regda.datasets.converters.coco_writer import run_cli
from mmpose_regda.datasets.converters.lsp import SPLITS, VISIBILITY


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--root', required=True, help='LSP folder, holding joints.mat, images/')
    parser.add_argument('--out-dir', required=True, help='where the json files go')
    parser.add_argument('--split', nargs='+', choices=SPLITS, default=['train', 'test'],
                        help='train: the first --num-train images; test: the rest; all: every '
                        'image, as the reference (default: train test)')
    parser.add_argument('--num-train', type=int, default=1000,
                        help='how many images, from the first, train (default 1000)')
    parser.add_argument('--visibility', choices=VISIBILITY, default='auto',
                        help='meaning of the third value of joints.mat (default auto: occluded '
                        'for LSP, visible for LSP-extended)')
    parser.add_argument('--image-pattern',
                        help='image file names in images/ (default im%%04d.jpg, LSP-extended '
                        'im%%05d.jpg)')
    args = parser.parse_args(argv)
    run_cli(convert_lsp, root=args.root, out_dir=args.out_dir, splits=args.split,
            num_train=args.num_train, visibility=args.visibility,
            image_pattern=args.image_pattern)


if __name__ == '__main__':
    main()
