"""Plot the paper's Fig. 9 (training dynamics of the adversarial game) from training logs.

Three panels against the training iteration, one line per run:

(a) the disparity between f and f' on the target: ``disparity_target``, the mean distance in
    heatmap pixels between the keypoints the two heads predict (logged by Objective 2; as
    mmengine logs every training scalar, averaged over the ``log_processor``'s window, the last
    10 iterations by default);
(b) the target PCK of f: the validation metric ``PCK/Avg``;
(c) the target PCK of f': ``adv_head/PCK/Avg``, logged when the run validates with
    ``model.test_cfg.adv_head_predictions=True`` and a second evaluator
    ``dict(type='PartPCKAccuracy', pred_field='adv_pred_instances', prefix='adv_head')``.

(b) and (c) are the target PCK only if the run validated on the target (with its labels, which
training never reads); without validation metrics the panels say so. The paper reads the
figure as: DD's disparity stays small (a weak f'), maximising L_F makes it grow and f''s PCK
drop, RegDA's grows then returns to zero while both PCKs rise.

    python tools/analysis_tools/plot_training_dynamics.py work_dirs/regda work_dirs/dd \\
        --labels RegDA DD --out fig9.png

Each work dir is what ``tools/train.py --work-dir`` wrote: the log of every launch is
``<work_dir>/<timestamp>/vis_data/scalars.json``; a resumed run's launches are read in order
(a later launch's value for an iteration wins). Validation lines carry mmengine's ``step``: the
iteration when the logger has ``log_metric_by_epoch=False`` (best for this figure), else the
epoch, which this tool turns into the iteration with the iterations per epoch of the text log
(``<timestamp>/<timestamp>.log``). :func:`read_scalars` gives the parsed logs to Python.
"""
import argparse
import glob
import json
import os.path as osp
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

#: Figure size in inches and resolution: the PNG is 1500 x 420 pixels.
FIGURE_SIZE = (15., 4.2)
DPI = 100
#: The key Objective 2 logs: mean keypoint distance between f and f' on the target batch.
DISPARITY_KEY = 'disparity_target'
#: The prefix of f''s PCK keys (``PartPCKAccuracy(prefix='adv_head')``).
ADV_HEAD_PREFIX = 'adv_head'
# mmengine's text log: "Epoch(train)  [3][ 40/120]  ..." -> 120 iterations per epoch
_EPOCH_PROGRESS = re.compile(r'Epoch\(train\)\s*\[\s*\d+\]\s*\[\s*\d+/(\d+)\]')


@dataclass
class TrainingLog:
    """The scalars of one run (all its launches), each list sorted by iteration.

    Attributes:
        work_dir (str): the run's work dir.
        train (list[dict]): one record per logged training iteration, with its ``iter``.
        val (list[dict]): one record per validation, with ``iter``: the training iteration it
            followed (``step`` keeps what mmengine logged).
        scalars_files (list[str]): the ``scalars.json`` read, oldest launch first.
    """
    work_dir: str
    train: List[dict] = field(default_factory=list)
    val: List[dict] = field(default_factory=list)
    scalars_files: List[str] = field(default_factory=list)

    def series(self, key: str, phase: str = 'train') -> Tuple[np.ndarray, np.ndarray]:
        """(iterations, values) of ``key`` over the records of ``phase`` that have it."""
        if phase not in ('train', 'val'):
            raise ValueError(f"TrainingLog.series: phase must be 'train' or 'val', got {phase!r}")
        records = [r for r in getattr(self, phase) if key in r]
        return (np.array([r['iter'] for r in records], dtype=int),
                np.array([r[key] for r in records], dtype=float))

    def has(self, key: str, phase: str = 'train') -> bool:
        return any(key in r for r in getattr(self, phase))


def read_scalars(work_dir: str) -> TrainingLog:
    """Parse every launch's ``vis_data/scalars.json`` under ``work_dir`` into one log.

    Raises:
        FileNotFoundError: ``work_dir`` does not exist or holds no ``scalars.json``.
        ValueError: a line is not JSON, or validation steps cannot be turned into iterations.
    """
    if not osp.isdir(work_dir):
        raise FileNotFoundError(f'plot_training_dynamics: work dir {work_dir!r} does not exist')
    # timestamps (YYYYmmdd_HHMMSS) sort in launch order
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(
            f'plot_training_dynamics: no training log in {work_dir!r}: expected '
            '<work_dir>/<timestamp>/vis_data/scalars.json, which tools/train.py writes into its '
            '--work-dir (a tools/test.py run writes none)')
    train, val = {}, {}
    for path in files:
        records = _read_json_lines(path)
        train_records = [r for r in records if 'iter' in r]
        val_records = [r for r in records if 'iter' not in r and 'step' in r]
        val_iters = _validation_iterations(records, path)
        # a relaunch repeats the iterations after its checkpoint: its values are the ones
        # the final model came from
        train.update((r['iter'], r) for r in train_records)
        val.update((it, dict(r, iter=it)) for r, it in zip(val_records, val_iters))
    return TrainingLog(work_dir=work_dir, train=[train[i] for i in sorted(train)],
                       val=[val[i] for i in sorted(val)], scalars_files=files)


def _read_json_lines(path: str) -> List[dict]:
    with open(path) as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as e:
            if number == len(lines):
                # a launch killed while writing leaves half a last line; the rest is good
                warnings.warn(f'plot_training_dynamics: {path}: last line {number} is cut '
                              f'short ({e.msg}); skipped')
                continue
            raise ValueError(f'plot_training_dynamics: {path}: line {number} is not JSON '
                             f'({e.msg}): {line[:80]!r}') from None
    return records


def _validation_iterations(records: List[dict], path: str) -> List[int]:
    """The training iteration after which each validation record (no ``iter``) was logged.

    With ``log_metric_by_epoch=False`` mmengine logs ``step`` = the iteration, so no step is
    below the training iteration logged before it. Otherwise ``step`` is the epoch: 0 for an
    iteration-based loop (hopeless), the epoch number for an epoch-based one, where validation
    follows the epoch's last iteration: epoch * iterations per epoch.
    """
    steps, last_train_iter, by_iteration = [], 0, True
    for record in records:
        if 'iter' in record:
            last_train_iter = record['iter']
        elif 'step' in record:
            steps.append(record['step'])
            if record['step'] <= 0 or record['step'] < last_train_iter:
                by_iteration = False
    if by_iteration:
        return steps
    fix = ('set default_hooks.logger.log_metric_by_epoch=False in the config (validation steps '
           'are then iterations)')
    epoch_based = any('epoch' in r for r in records if 'iter' in r)
    if not epoch_based or min(steps) <= 0:
        raise ValueError(
            f'plot_training_dynamics: {path}: validation was logged with step {min(steps)}, not '
            f'an iteration (mmengine logs validation by epoch, and an iteration-based loop has '
            f'no epochs); the iteration of each validation is lost: {fix}')
    iters_per_epoch = _iters_per_epoch(osp.dirname(osp.dirname(path)))
    if iters_per_epoch is None:
        raise ValueError(
            f'plot_training_dynamics: {path}: validation steps are epochs and the text log '
            f'beside it, which gives the iterations per epoch, is missing or has no '
            f'"Epoch(train) [e][i/N]" line: {fix}')
    return [step * iters_per_epoch for step in steps]


def _iters_per_epoch(launch_dir: str) -> Optional[int]:
    for log_file in sorted(glob.glob(osp.join(launch_dir, '*.log'))):
        with open(log_file, errors='replace') as f:
            for line in f:
                match = _EPOCH_PROGRESS.search(line)
                if match:
                    return int(match.group(1))
    return None


def draw_figure(logs: Sequence[TrainingLog], labels: Sequence[str], part: str = 'Avg',
                adv_head_prefix: str = ADV_HEAD_PREFIX, dpi: int = DPI):
    """The three panels of Fig. 9 as a matplotlib ``Figure`` (Agg canvas, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if len(labels) != len(logs):
        raise ValueError(f'plot_training_dynamics: {len(labels)} labels for {len(logs)} runs')
    figure = Figure(figsize=FIGURE_SIZE, dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, 3)
    f_key, adv_key = f'PCK/{part}', f'{adv_head_prefix}/PCK/{part}'
    any_validation = any(log.has(f_key, 'val') for log in logs)
    panels = [
        (axes[0], DISPARITY_KEY, 'train',
         r"(a) disparity $\|\hat{y}' - \hat{y}\|$ between f and f' on the target",
         'mean keypoint distance (heatmap px)',
         f'no {DISPARITY_KEY} in the logs:\nnot a run with an adversarial head'),
        (axes[1], f_key, 'val', '(b) target PCK of f', f'{f_key} (%)',
         f'no validation metric {f_key} in the logs:\nno target labels '
         '(or validation was off)'),
        (axes[2], adv_key, 'val', "(c) target PCK of f'", f'{adv_key} (%)',
         (f"no {adv_key} in the logs: f' was not scored;\nvalidate with "
          "model.test_cfg.adv_head_predictions=True\nand PartPCKAccuracy(pred_field="
          f"'adv_pred_instances',\nprefix='{adv_head_prefix}')") if any_validation else
         'no validation metrics in the logs:\nno target labels (or validation was off)'),
    ]
    colors = [f'C{i % 10}' for i in range(len(logs))]
    # one iteration axis for the three panels, so that a change in (a) lines up with (b), (c)
    last_iter = max([r['iter'] for log in logs for r in log.train + log.val] or [1])
    for ax, key, phase, title, ylabel, absent in panels:
        ax.set_title(title, fontsize=11)
        ax.set_xlabel('iteration')
        ax.set_ylabel(ylabel)
        missing = []
        for log, label, color in zip(logs, labels, colors):
            iters, values = log.series(key, phase)
            if not len(iters):
                missing.append(label)
                continue
            if phase == 'val':  # few points, each a full evaluation: mark them
                ax.plot(iters, 100 * values, 'o-', color=color, label=label, markersize=4)
            else:
                ax.plot(iters, values, '-', color=color, label=label)
        if len(missing) == len(logs):
            ax.text(0.5, 0.5, absent, transform=ax.transAxes, ha='center', va='center',
                    fontsize=9, color='0.35', wrap=True)
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        for label in missing:  # said in the legend, next to the runs that have it
            ax.plot([], [], ' ', label=f'{label}: not logged')
        ax.set_xlim(0, last_iter * 1.03)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def save_figure_atomically(figure, out_file: str) -> None:
    """Save through a temporary file: a reader (or a browser that refreshes the picture during
    training) never sees half a file."""
    from mmpose_regda.utils import atomic_output
    extension = osp.splitext(out_file)[1].lstrip('.').lower() or 'png'
    with atomic_output(out_file) as tmp:
        figure.savefig(tmp, format=extension, dpi=figure.dpi)


def plot_training_dynamics(work_dirs: Sequence[str], labels: Optional[Sequence[str]] = None,
                           out: Optional[str] = None, part: str = 'Avg',
                           adv_head_prefix: str = ADV_HEAD_PREFIX, dpi: int = DPI) -> str:
    """Read the runs, draw Fig. 9, write it; returns the file written."""
    labels = list(labels) if labels else [_run_name(d) for d in work_dirs]
    if len(labels) != len(work_dirs):
        raise ValueError(f'plot_training_dynamics: {len(labels)} --labels for '
                         f'{len(work_dirs)} work dirs; give one label per work dir')
    logs = [read_scalars(d) for d in work_dirs]
    out = out or osp.join(work_dirs[0], 'training_dynamics.png')
    save_figure_atomically(draw_figure(logs, labels, part, adv_head_prefix, dpi), out)
    return out


def _run_name(work_dir: str) -> str:
    return osp.basename(osp.normpath(work_dir))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n\n'.join(__doc__.split('\n\n')[1:]))
    parser.add_argument('work_dirs', nargs='+', help="runs' work dirs (tools/train.py "
                        '--work-dir), one line each')
    parser.add_argument('--labels', nargs='+', help='one per work dir (default: its name)')
    parser.add_argument('--out', help='image to write (default: '
                        '<first work dir>/training_dynamics.png)')
    parser.add_argument('--part', default='Avg', help='PCK key to plot: PCK/<part> for f, '
                        f'{ADV_HEAD_PREFIX}/PCK/<part> for f\' (default: Avg)')
    parser.add_argument('--adv-head-prefix', default=ADV_HEAD_PREFIX,
                        help="prefix of f''s PartPCKAccuracy (default: adv_head)")
    parser.add_argument('--dpi', type=int, default=DPI, help='pixels per inch of the image')
    args = parser.parse_args(argv)
    if args.labels and len(args.labels) != len(args.work_dirs):
        parser.error(f'{len(args.labels)} --labels for {len(args.work_dirs)} work dirs; give '
                     'one label per work dir')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        out = plot_training_dynamics(args.work_dirs, args.labels, args.out, args.part,
                                     args.adv_head_prefix, args.dpi)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(str(e))  # the message names the file and the fix; a traceback adds nothing
    print(f'plot_training_dynamics: wrote {out}')


if __name__ == '__main__':
    main()
