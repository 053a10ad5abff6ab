"""The embedded benchmark end to end: train, adapt, evaluate, tabulate, draw.

Stages, per training seed: source only (KL) -> RegDA from it; when asked, source only (MSE), the
oracle, and the comparison rows, each adapted from the same KL checkpoint with RegDA's budget
(DD and Table 3's middle row on RegDA's estimator, MCD, DANN, DAN). Each stage is ``tools/train.py`` / ``tools/test.py`` on the configs in
``configs/synthetic_hands/`` (their logs stream to the console), and a stage whose final
checkpoint and metrics exist is reused, so an interrupted run continues where it stopped.
Every model is evaluated as it ends (final checkpoint) on the target test set and on the source
test set. Then the script prints the table in the paper's form (PCK@0.05 by part; mean and
spread over seeds) and writes it, with the before/after picture of target predictions, to the
work directory.

    python tools/benchmark_synthetic_hands.py                       # the README's main command
    python tools/benchmark_synthetic_hands.py --seeds 0 1 2 --methods mse kl dan dann \\
        mcd dd ground-false-minimax regda oracle                    # the full table
"""
import argparse
import os.path as osp
import sys
import warnings

# mmengine imports pkg_resources, which setuptools deprecates on every import: noise, not news
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
from mmengine.config import Config  # noqa: E402

from benchmark_args import (HelpFormatter, cfg_option, check_distinct,  # noqa: E402
                            positive_int, seed)
from staged_runs import (REPO, StageFailed, evaluate_stage, final_checkpoint,  # noqa: E402
                         format_over_seeds, run_tool, write_table)
from staged_runs import train_stage as train_stage_in  # noqa: E402

CONFIGS = osp.join(REPO, 'configs', 'synthetic_hands')
METHODS = {
    # name: (config, label in the table, stage it starts from)
    'mse': ('source-only-mse_res18-half_1xb32-800it_synthetic-source-96x96.py',
            'Source only (MSE)', None),
    'kl': ('kl-pretrain_res18-half_1xb32-800it_synthetic-source-96x96.py',
           'Source only (KL)', None),
    'dan': ('dan_res18-half_1xb32-300it_synthetic-source-to-target-96x96.py', 'DAN', 'kl'),
    'dann': ('dann_res18-half_1xb32-300it_synthetic-source-to-target-96x96.py', 'DANN', 'kl'),
    'mcd': ('mcd_res18-half_1xb32-300it_synthetic-source-to-target-96x96.py', 'MCD', 'kl'),
    'dd': ('dd_res18-half_1xb32-300it_synthetic-source-to-target-96x96.py',
           'DD (f\' max L_T, psi min L_T)', 'kl'),
    'ground-false-minimax': (
        'ground-false-minimax_res18-half_1xb32-300it_synthetic-source-to-target-96x96.py',
        'f\' min L_F, psi max L_F', 'kl'),
    'regda': ('regda_res18-half_1xb32-300it_synthetic-source-to-target-96x96.py',
              'RegDA (f\' min L_F, psi min L_T)', 'kl'),
    'oracle': ('oracle-mse_res18-half_1xb32-800it_synthetic-target-96x96.py', 'Oracle', None),
}
PARTS = ['MCP', 'PIP', 'DIP', 'Fingertip', 'Avg']


RUN_TIME = """\
time on 2 CPU cores (measured, docs/results.md): the default (kl, regda, oracle; seed 0) about
12 minutes from scratch; each further seed as much again; each further row about 4 to 5
minutes per seed. Finished stages are reused: an interrupted run continues where it stopped."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], epilog=RUN_TIME,
                                     formatter_class=HelpFormatter)
    parser.add_argument('--seeds', type=seed, nargs='+', default=[0],
                        help='training seeds, distinct, in [0, 2**31) (the benchmark data '
                        'itself is fixed)')
    parser.add_argument('--methods', nargs='+', default=['kl', 'regda', 'oracle'],
                        choices=list(METHODS), help='rows of the table')
    parser.add_argument('--work-dir', default='work_dirs/synthetic_hands',
                        help='where the stages, the table and the picture go')
    parser.add_argument('--cfg-options', nargs='*', type=cfg_option, default=[],
                        help='key=value, passed to every training (e.g. train_cfg.max_iters=10)')
    parser.add_argument('--num-images', type=positive_int, default=8,
                        help='target images in the before/after picture')
    args = parser.parse_args(argv)
    check_distinct(parser, '--seeds', args.seeds, ' (two runs of one seed would report a '
                   'spread of 0)')
    check_distinct(parser, '--methods', args.methods)
    adapted = [m for m in args.methods if METHODS[m][2] == 'kl']
    if adapted and 'kl' not in args.methods:  # the adaptation rows start from it
        args.methods.insert(args.methods.index(adapted[0]), 'kl')
    return args


def run(cmd):
    run_tool(cmd)


def train_stage(method, seed, args):
    config, _, parent = METHODS[method]
    options = [f'randomness.seed={seed}'] + list(args.cfg_options)
    if parent is not None:
        parent_dir = osp.abspath(osp.join(args.work_dir, f'seed{seed}', parent))
        options.append(f'load_from={final_checkpoint(parent_dir)}')
    return train_stage_in(osp.join(CONFIGS, config),
                          osp.join(args.work_dir, f'seed{seed}', method), options,
                          run=lambda cmd: run(cmd), name=f'{method}, seed {seed}')


def evaluate(method, seed, work_dir, domain, args):
    """PCK of the final checkpoint on one domain's test set (cached in the work dir)."""
    metrics = evaluate_stage(osp.join(CONFIGS, METHODS[method][0]), work_dir,
                             f'pck_{domain}.json', [f'test_dataloader.dataset.domain={domain}'],
                             run=lambda cmd: run(cmd))
    return {key.split('/')[-1]: 100 * value for key, value in metrics.items()}


def format_table(results, methods, seeds):
    """The paper's table: PCK by part on the target, plus the average on the source."""
    header = f'| Method | {" | ".join(PARTS)} | Avg on source |'
    lines = [header, '|' + '---|' * (len(PARTS) + 2)]
    for method in methods:
        cells = []
        for domain, parts in (('target', PARTS), ('source', ['Avg'])):
            for part in parts:
                cells.append(format_over_seeds(
                    [results[(method, seed, domain)][part] for seed in seeds], digits=1))
        lines.append(f'| {METHODS[method][1]} | ' + ' | '.join(cells) + ' |')
    note = (f'PCK@0.05 on the target test set (500 images), final models, seeds '
            f'{", ".join(map(str, seeds))}' + (' (mean ± sample std)' if len(seeds) > 1 else ''))
    return '\n'.join(lines) + f'\n\n{note}\n'


def draw_before_after(work_dirs, out_file, num_images):
    """Target predictions of source only (KL) and RegDA, one row each, with skeletons."""
    import cv2

    from mmpose_regda.utils import atomic_output
    from mmpose_regda.visualization import render_side_by_side

    methods = ('kl', 'regda')
    models = [(osp.join(CONFIGS, METHODS[m][0]), final_checkpoint(work_dirs[m])) for m in methods]
    dataset = Config.fromfile(models[0][0]).test_dataloader.dataset  # the target test set
    image = render_side_by_side(models, [METHODS[m][1] for m in methods], dataset, num_images)
    with atomic_output(out_file) as tmp:
        cv2.imwrite(tmp, image)


def main():
    args = parse_args()
    try:
        run_benchmark(args)
    except StageFailed as e:
        sys.exit(f'error: {e}')


def prepare_data():
    """Generate the benchmark's images (on the first run) two splits at a time, before the
    first stage, where the datasets would otherwise draw them one after the other."""
    from mmpose_regda.datasets.synthetic_hands import generate_splits
    data = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'datasets',
                                    'synthetic-hands_96x96.py'))
    # where the stages, which run from the repository, find them
    cache_root = osp.join(REPO, 'data', 'synthetic_hands')
    generate_splits([dict(data[name], cache_root=cache_root) for name in
                     ('source_train', 'target_train', 'source_test', 'target_test')])


def run_benchmark(args):
    prepare_data()
    results = {}
    for seed in args.seeds:
        work_dirs = {}
        for method in args.methods:
            work_dirs[method] = train_stage(method, seed, args)
            for domain in ('target', 'source'):
                results[(method, seed, domain)] = evaluate(method, seed, work_dirs[method],
                                                           domain, args)
        if 'regda' in work_dirs:
            picture = osp.join(args.work_dir, f'before_after_seed{seed}.png')
            draw_before_after(work_dirs, picture, args.num_images)
            print(f'target predictions before/after adaptation: {picture}')
    table = format_table(results, args.methods, args.seeds)
    write_table(table, args.work_dir)


if __name__ == '__main__':
    main()
