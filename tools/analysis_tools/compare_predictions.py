"""Draw the predictions of two checkpoints on the same images, one row per checkpoint.

Numbers say how much adaptation helped; the picture says where: which keypoints moved, whether a
skeleton that was scattered over the background now lies on the hand. Each row is one
checkpoint (with ``--show-gt``, a ground-truth row comes first), each column one image, so
reading down a column compares the checkpoints on that image. Every tile is the image cropped
to its instance box (padded by 1.25, as ``GetBBoxCenterScale``), with the keypoints and the
skeleton in the colours of the dataset's metainfo (``skeleton_links``, ``skeleton_link_colors``,
``keypoint_colors``). The images are the first ``--num-images`` of the config's test set
(``test_dataloader.dataset``; ``--cfg-options`` picks another, e.g. the target domain).

    python tools/analysis_tools/compare_predictions.py CONFIG before.pth after.pth \\
        --labels 'Source only' RegDA --num-images 8 --out before_after.png \\
        --cfg-options test_dataloader.dataset.domain=target --show-gt

``--config-b`` gives the second checkpoint its own config (e.g. a source-only model against a
RegDA one); the images always come from ``CONFIG``'s test set. From Python,
:func:`render_side_by_side` returns the picture as an array.
"""
import argparse
import os.path as osp
import warnings

# mmengine imports pkg_resources, which setuptools deprecates on every import: noise, not news
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
import cv2  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from mmpose_regda.utils import atomic_output  # noqa: E402
from mmpose_regda.visualization.side_by_side import (load_config,  # noqa: E402
                                                     render_side_by_side)

def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n\n'.join(__doc__.split('\n\n')[1:]))
    parser.add_argument('config', help='config of checkpoint_a (and of checkpoint_b unless '
                        '--config-b); its test_dataloader.dataset gives the images')
    parser.add_argument('checkpoint_a', help='first checkpoint (top row)')
    parser.add_argument('checkpoint_b', help='second checkpoint (bottom row)')
    parser.add_argument('--config-b', help='config of checkpoint_b, if not CONFIG')
    parser.add_argument('--labels', nargs=2, metavar=('LABEL_A', 'LABEL_B'),
                        help='row labels, ASCII (default: <folder>/<file> of each checkpoint)')
    parser.add_argument('--num-images', type=int, default=8, help='images (columns) to draw')
    parser.add_argument('--out', default='compare_predictions.png',
                        help='image file to write (.png or .jpg)')
    parser.add_argument('--show-gt', action='store_true',
                        help='add a first row with the ground truth, if the dataset has any')
    parser.add_argument('--device', default='cpu', help='device to run the models on')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        metavar='KEY=VALUE', help='override settings of both configs, e.g. '
                        'test_dataloader.dataset.domain=target')
    args = parser.parse_args(argv)
    # Checked before the models are built, so that a typo costs no waiting.
    problems = [f'{name} {path!r} does not exist' for name, path in (
        ('config', args.config), ('--config-b', args.config_b),
        ('checkpoint_a', args.checkpoint_a), ('checkpoint_b', args.checkpoint_b))
        if path is not None and not osp.isfile(path)]
    if args.num_images < 1:
        problems.append(f'--num-images must be at least 1, got {args.num_images}')
    if osp.splitext(args.out)[1].lower() not in ('.png', '.jpg', '.jpeg'):
        problems.append(f'--out must end in .png or .jpg, got {args.out!r}')
    if problems:
        parser.error('; '.join(problems))
    return args


def _default_label(checkpoint: str) -> str:
    # runs name their checkpoints alike (iter_300.pth): the folder tells them apart
    path = osp.abspath(checkpoint)
    return f'{osp.basename(osp.dirname(path))}/{osp.basename(path)}'


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg_options = args.cfg_options
    labels = args.labels or [_default_label(c) for c in (args.checkpoint_a, args.checkpoint_b)]
    config_a = load_config(args.config, cfg_options)
    config_b = load_config(args.config_b, cfg_options) if args.config_b else config_a
    image = render_side_by_side(
        [(config_a, args.checkpoint_a), (config_b, args.checkpoint_b)], labels,
        config_a.test_dataloader.dataset, args.num_images, show_gt=args.show_gt,
        device=args.device)
    with atomic_output(args.out) as tmp:
        if not cv2.imwrite(tmp, image):
            raise OSError(f'compare_predictions: could not write an image to {args.out!r}')
    print(f'compare_predictions: wrote {args.out} ({image.shape[1]}x{image.shape[0]})')


if __name__ == '__main__':
    main()
