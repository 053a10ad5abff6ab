"""Convert SURREAL clips to jpg frames and COCO json in MPII's 16-keypoint layout.

    python tools/dataset_converters/surreal2coco.py --root data/SURREAL/data \
        --out-dir data/surreal/annotations --frames-dir data/surreal [--frame-step 10]

writes ``<frames-dir>/images/<split>/<run>/<clip>_<frame>.jpg`` and
``<out-dir>/surreal_<split>.json``, whose file names are relative to ``--frames-dir`` (by default
``--out-dir``), the converted dataset's root; see ``mmpose_regda/datasets/converters/surreal.py``.
"""
import argparse

from mmpose_regda.datasets.converters import convert_surreal
from mmpose_regda.datasets.converters.coco_writer import run_cli


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--root', required=True, help='SURREAL folder, holding cmu/')
    parser.add_argument('--out-dir', required=True, help='where the json files go')
    parser.add_argument('--frames-dir',
                        help='the converted dataset root: frames go to its images/, the json '
                        'refers to them relative to it (default: --out-dir)')
    parser.add_argument('--splits', nargs='+', choices=['train', 'val', 'test'],
                        default=['train', 'val', 'test'])
    parser.add_argument('--frame-step', type=int, default=10,
                        help='keep every n-th frame of each clip (default 10)')
    parser.add_argument('--frame-size', type=int, nargs=2, default=[320, 240],
                        metavar=('WIDTH', 'HEIGHT'), help='clip frame size (default 320 240)')
    args = parser.parse_args(argv)
    run_cli(convert_surreal, root=args.root, out_dir=args.out_dir, splits=args.splits,
            frame_step=args.frame_step, frame_size=tuple(args.frame_size),
            frames_dir=args.frames_dir)


if __name__ == '__main__':
    main()
