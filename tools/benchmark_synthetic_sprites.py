"""Table 1 of the paper on the dSprites-style toy task: MAE of source only, DD, RegDA and oracle.

The six transfers between the domains Color (C), Noisy (N) and Scream (S) of
``mmpose_regda/datasets/synthetic_sprites.py``. Stages, per training seed: one source-only KL
pretrain per domain; per transfer, DD and RegDA adapted from the source domain's pretrain (its
final checkpoint). Each stage is ``tools/train.py`` / ``tools/test.py`` on the configs in
``configs/synthetic_sprites/`` (their logs stream to the console), and a finished stage is
reused, so an interrupted run continues where it stopped. Final models only are evaluated, by
MAE on the target test set. The oracle of a transfer is the pretrain of its target domain on
that domain's own test set (trained with the target's labels). The script prints the table in
the paper's form (one column per transfer and their average; mean ± sample std over seeds) and
writes it to ``<work-dir>/results.md``.

Cost of the whole table on a 2-core CPU, from iterations timed on one core of a shared machine
(pretrain 0.17 s, RegDA 0.55 s; DD runs the same passes): 3 x 300 pretrain and 12 x 150
adaptation iterations, about 19 minutes of compute, plus about 10 s to start each of the 36
training and test processes.
Both cores free make it shorter; with another job on the machine, set ``OMP_NUM_THREADS=1``:
two threads competing for busy cores run several times slower.

    python tools/benchmark_synthetic_sprites.py                     # Table 1, one seed
    python tools/benchmark_synthetic_sprites.py --seeds 0 1 2       # mean ± std over seeds
    python tools/benchmark_synthetic_sprites.py --transfers C2N --methods source_only regda
"""
import argparse
import os.path as osp
import sys
import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np

# mmengine imports pkg_resources, which setuptools deprecates on every import: noise, not news
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
from mmengine.config import Config  # noqa: E402

from mmpose_regda.apis.benchmark_args import (HelpFormatter, cfg_option,  # noqa: E402
                                              check_distinct, positive_int)
from mmpose_regda.apis.benchmark_args import seed as seed_type  # noqa: E402
from mmpose_regda.apis.staged_runs import (REPO, StageFailed, evaluate_stage,  # noqa: E402
                                           final_checkpoint, format_over_seeds, run_tool,
                                           write_table)
from mmpose_regda.apis.staged_runs import train_stage as train_stage_in  # noqa: E402

CONFIGS = osp.join(REPO, 'configs', 'synthetic_sprites')
PRETRAIN_CONFIG = 'kl-pretrain_res18-quarter-2stages_1xb32-300it_sprites-source-64x64.py'
ADAPTATION_CONFIGS = dict(
    dd='dd_res18-quarter-2stages_1xb32-150it_sprites-source-to-target-64x64.py',
    regda='regda_res18-quarter-2stages_1xb32-150it_sprites-source-to-target-64x64.py')
DOMAINS = dict(C='color', N='noisy', S='scream')
TRANSFERS = ['C2N', 'C2S', 'N2C', 'N2S', 'S2C', 'S2N']  # Table 1's order
METHODS = dict(source_only='Source only', dd='DD', regda='RegDA', oracle='Oracle')
# where each kind of stage reads its datasets, by role
DATASET_FIELDS = dict(
    pretrain=dict(source='train_dataloader.dataset'),
    adaptation=dict(source='train_dataloader.dataset.source',
                    target='train_dataloader.dataset.target'),
    test=dict(test='test_dataloader.dataset'))


RUN_TIME = """\
time on 2 CPU cores (measured, docs/results.md): the whole table (6 transfers, 4 methods) about
17 minutes per seed; a subset of transfers or methods less. Finished stages are reused: an
interrupted run continues where it stopped."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], epilog=RUN_TIME,
                                     formatter_class=HelpFormatter)
    parser.add_argument('--seeds', type=seed_type, nargs='+', default=[0],
                        help='training seeds, distinct, in [0, 2**31) (the sprites themselves '
                        'are fixed)')
    parser.add_argument('--transfers', nargs='+', default=TRANSFERS, choices=TRANSFERS,
                        help='columns of the table, source 2 target')
    parser.add_argument('--methods', nargs='+', default=list(METHODS), choices=list(METHODS),
                        help='rows of the table (DD and RegDA always pretrain their source)')
    parser.add_argument('--work-dir', default='work_dirs/synthetic_sprites',
                        help='where the stages and the table go')
    parser.add_argument('--cfg-options', nargs='*', type=cfg_option, default=[],
                        help='passed to every training and evaluation (e.g. '
                        'train_cfg.max_iters=10); the domains are set by the script')
    parser.add_argument('--train-images', type=positive_int, default=None,
                        help='training images per domain (default: the configs\', 2000)')
    parser.add_argument('--test-images', type=positive_int, default=None,
                        help='test images per domain (default: the configs\', 500)')
    parser.add_argument('--cache-root', default=None,
                        help='where the sprites are generated (default: the configs\', '
                        'data/synthetic_sprites)')
    args = parser.parse_args(argv)
    check_distinct(parser, '--seeds', args.seeds, ' (two runs of one seed would report a '
                   'spread of 0)')
    args.transfers = [t for t in TRANSFERS if t in args.transfers]  # the table's order
    args.methods = [m for m in METHODS if m in args.methods]
    return args


def run(cmd):
    run_tool(cmd)


def dataset_options(kind: str, domains: Dict[str, str], num_images: Optional[int],
                    cache_root: Optional[str]) -> List[str]:
    """The ``--cfg-options`` that point a stage's datasets at their domains.

    mmengine resolves the configs' ``source_domain``/``target_domain`` when it reads the file,
    so a stage's domains are set on its dataset fields (:data:`DATASET_FIELDS`), with the size
    and cache folder when given.

    Args:
        kind (str): ``'pretrain'``, ``'adaptation'`` or ``'test'``.
        domains (dict): ``{role: domain}`` for the roles of ``kind``.
    """
    options = []
    for role, field in DATASET_FIELDS[kind].items():
        options.append(f'{field}.domain={domains[role]}')
        if num_images is not None:
            options.append(f'{field}.num_images={num_images}')
        if cache_root is not None:
            options.append(f'{field}.cache_root={cache_root}')
    return options


def pretrain(domain: str, seed: int, args) -> str:
    """Source-only KL training on ``domain`` (reused when finished); returns its work dir."""
    options = ([f'randomness.seed={seed}'] + list(args.cfg_options) + dataset_options(
        'pretrain', dict(source=domain), args.train_images, args.cache_root))
    return train_stage_in(osp.join(CONFIGS, PRETRAIN_CONFIG),
                          osp.join(args.work_dir, f'seed{seed}', f'pretrain_{domain}'), options,
                          run=lambda cmd: run(cmd), name=f'pretrain on {domain}, seed {seed}')


def adapt(method: str, source: str, target: str, seed: int, args) -> str:
    """DD or RegDA from ``source``'s pretrain to ``target``; returns its work dir."""
    parent = osp.abspath(osp.join(args.work_dir, f'seed{seed}', f'pretrain_{source}'))
    checkpoint = final_checkpoint(parent)
    if checkpoint is None:
        raise FileNotFoundError(f'{method} {source} -> {target}: the pretrain on {source} has '
                                f'no final checkpoint in {parent}')
    options = ([f'randomness.seed={seed}'] + list(args.cfg_options) + dataset_options(
        'adaptation', dict(source=source, target=target), args.train_images, args.cache_root)
        + [f'load_from={checkpoint}'])
    return train_stage_in(osp.join(CONFIGS, ADAPTATION_CONFIGS[method]),
                          osp.join(args.work_dir, f'seed{seed}', f'{method}_{source}2{target}'),
                          options, run=lambda cmd: run(cmd),
                          name=f'{method} {source} -> {target}, seed {seed}')


def evaluate(config: str, work_dir: str, domain: str, args) -> float:
    """MAE of the final checkpoint of ``work_dir`` on ``domain``'s test set (cached there)."""
    options = list(args.cfg_options) + dataset_options('test', dict(test=domain),
                                                       args.test_images, args.cache_root)
    metrics = evaluate_stage(osp.join(CONFIGS, config), work_dir, f'mae_{domain}.json', options,
                             run=lambda cmd: run(cmd))
    return float(metrics['MAE'])


def run_seed(seed: int, args) -> Dict[tuple, float]:
    """Every stage of one training seed; ``{(method, transfer): MAE}``."""
    pairs = [(DOMAINS[t[0]], DOMAINS[t[2]]) for t in args.transfers]
    needs_pretrain = []
    for source, target in pairs:
        if set(args.methods) & {'source_only', 'dd', 'regda'}:
            needs_pretrain.append(source)
        if 'oracle' in args.methods:
            needs_pretrain.append(target)
    pretrained = {domain: pretrain(domain, seed, args)
                  for domain in dict.fromkeys(needs_pretrain)}  # once each, in order
    results = {}
    for transfer, (source, target) in zip(args.transfers, pairs):
        if 'source_only' in args.methods:
            results[('source_only', transfer)] = evaluate(PRETRAIN_CONFIG, pretrained[source],
                                                          target, args)
        for method in ('dd', 'regda'):
            if method in args.methods:
                work_dir = adapt(method, source, target, seed, args)
                results[(method, transfer)] = evaluate(ADAPTATION_CONFIGS[method], work_dir,
                                                       target, args)
        if 'oracle' in args.methods:
            results[('oracle', transfer)] = evaluate(PRETRAIN_CONFIG, pretrained[target],
                                                     target, args)
    return results


def format_table(results: Dict[tuple, float], methods: Sequence[str], transfers: Sequence[str],
                 seeds: Sequence[int], num_test_images: int) -> str:
    """Table 1's form: MAE per transfer and its average over the transfers (per seed, then
    mean ± sample std over seeds); ``results`` maps ``(method, transfer, seed)`` to MAE."""
    columns = [f'{t[0]}→{t[2]}' for t in transfers]
    lines = [f'| Method | {" | ".join(columns)} | Avg |', '|' + '---|' * (len(columns) + 2)]
    for method in methods:
        per_seed = np.array([[results[(method, t, seed)] for t in transfers] for seed in seeds])
        cells = [format_over_seeds(per_seed[:, i], 3) for i in range(len(transfers))]
        cells.append(format_over_seeds(per_seed.mean(axis=1), 3))
        lines.append(f'| {METHODS[method]} | ' + ' | '.join(cells) + ' |')
    note = (f'MAE (position error / image side, averaged over x and y; lower is better) on the '
            f'target test set ({num_test_images} images), final models, seeds '
            f'{", ".join(map(str, seeds))}' + (' (mean ± sample std)' if len(seeds) > 1 else '')
            + '. Oracle: source only trained on the target domain.')
    return '\n'.join(lines) + f'\n\n{note}\n'


def main():
    args = parse_args()
    try:
        run_benchmark(args)
    except StageFailed as e:
        sys.exit(f'error: {e}')


def run_benchmark(args):
    results = {}
    for seed in args.seeds:
        for (method, transfer), mae in run_seed(seed, args).items():
            results[(method, transfer, seed)] = mae
    num_test_images = args.test_images or Config.fromfile(
        osp.join(CONFIGS, PRETRAIN_CONFIG)).test_dataloader.dataset.num_images
    table = format_table(results, args.methods, args.transfers, args.seeds, num_test_images)
    write_table(table, args.work_dir)


if __name__ == '__main__':
    main()
