"""Convert Human3.6M (preprocessed by mmpose's preprocess_h36m.py) to COCO json in MPII's
16-keypoint layout.

    python tools/dataset_converters/h36m2coco.py --root data/human36m \
        --ann-file data/human36m/annotation_body3d/fps10/h36m_{train,test}.npz \
        --out-dir data/human36m/annotations

writes ``h36m_train.json`` (S1, S5, S6, S7, S8) and ``h36m_test.json`` (S9, S11), every 5th
frame, from all the ``.npz`` files given; see ``mmpose_regda/datasets/converters/h36m.py``.
"""
import argparse

from mmpose_regda.datasets.converters import convert_h36m
from mmpose_regda.datasets.converters.coco_writer import run_cli


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--ann-file', required=True, nargs='+',
                        help='annotation .npz file(s) (imgname, center, scale, part): give the '
                        'train and test files together, as both outputs are written')
    parser.add_argument('--root', required=True,
                        help='dataset root the json refers to, holding the frames (directly or '
                        'under images/)')
    parser.add_argument('--out-dir', required=True, help='where the json files go')
    parser.add_argument('--train-subjects', nargs='+', default=['S1', 'S5', 'S6', 'S7', 'S8'])
    parser.add_argument('--test-subjects', nargs='+', default=['S9', 'S11'])
    parser.add_argument('--frame-step', type=int, default=5,
                        help='keep frames 1, 1 + n, 1 + 2n, ... (default 5: 50 fps to 10 fps)')
    parser.add_argument('--image-size', type=int, nargs=2, metavar=('WIDTH', 'HEIGHT'),
                        help='size of frames not on disk (default: from the camera)')
    parser.add_argument('--box', choices=['person', 'keypoints'], default='person',
                        help='the box written: the person box (default) or the box of the '
                        'visible keypoints, which the reference crops around (paper configs)')
    args = parser.parse_args(argv)
    run_cli(convert_h36m, ann_file=args.ann_file, root=args.root, out_dir=args.out_dir,
            train_subjects=args.train_subjects, test_subjects=args.test_subjects,
            frame_step=args.frame_step, box=args.box,
            image_size=tuple(args.image_size) if args.image_size else None)


if __name__ == '__main__':
    main()
