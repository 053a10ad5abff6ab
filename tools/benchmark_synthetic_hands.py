"""The embedded benchmark end to end: train, adapt, evaluate, tabulate, draw.

Stages, per training seed: the source-only model (KL) trained until it has converged, then every
adaptation row from it with one budget: the control ("source only, continued": the same
iterations and optimiser on the source alone, so a row's gain over it is what its target losses
bring), RegDA, and when asked DD and Table 3's middle row (RegDA's estimator with other games),
DANN, DAN and MCD; on their own, source only with the L2 loss and the oracle (trained on target
labels). Each stage is ``tools/train.py`` / ``tools/test.py`` on the configs in
``configs/synthetic_hands/`` (their progress streams to the console, their logs stay in their
work directories), and a finished stage is reused, so an interrupted run continues where it
stopped. Every model is evaluated as it ends (final checkpoint) on the target test set and on
the source test set. Then the script prints the table in the paper's form (PCK@0.05 by part;
mean and spread over seeds), each adaptation row's gain over the control seed by seed, and
writes them, with the picture of target predictions before and after adaptation, to the work
directory.

    python tools/benchmark_synthetic_hands.py                     # the README's main command
    python tools/benchmark_synthetic_hands.py --profile full      # every row of the tables
    python tools/benchmark_synthetic_hands.py --target target_pose  # the pose-shift variant
"""
import argparse
import contextlib
import io
import os.path as osp
import sys
import warnings

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

CONFIGS = osp.join(REPO, 'configs', 'synthetic_hands')
DATA_CONFIG = osp.join(REPO, 'configs', '_base_', 'datasets', 'synthetic-hands_96x96.py')
ADAPTATION = 'res18-half_1xb32-1000it_synthetic-source-to-target-96x96.py'
SUPERVISED = 'res18-half_1xb32-6500it_synthetic-{}-96x96.py'
#: name: (config, label in the table, stage it starts from, the domain it trains on)
METHODS = {
    'mse': ('source-only-mse_' + SUPERVISED.format('source'), 'Source only (MSE)', None,
            'source'),
    'kl': ('kl-pretrain_' + SUPERVISED.format('source'), 'Source only (KL)', None, 'source'),
    'control': ('control_res18-half_1xb32-1000it_synthetic-source-96x96.py',
                'Source only, continued (control)', 'kl', 'source'),
    'dan': ('dan_' + ADAPTATION, 'DAN', 'kl', 'both'),
    'dann': ('dann_' + ADAPTATION, 'DANN', 'kl', 'both'),
    'mcd': ('mcd_' + ADAPTATION, 'MCD', 'kl', 'both'),
    'dd': ('dd_' + ADAPTATION, 'DD (f\' max L_T, psi min L_T)', 'kl', 'both'),
    'ground-false-minimax': ('ground-false-minimax_' + ADAPTATION, 'f\' min L_F, psi max L_F',
                             'kl', 'both'),
    'regda': ('regda_' + ADAPTATION, 'RegDA (f\' min L_F, psi min L_T)', 'kl', 'both'),
    'mean-teacher': ('mean-teacher_' + ADAPTATION, 'Mean teacher (UDAPE, no style transfer)',
                     'kl', 'both'),
    'regda-mean-teacher': ('regda-mean-teacher_' + ADAPTATION, 'RegDA + mean teacher', 'kl',
                           'both'),
    'objective-1': ('regda-objective-1-only_' + ADAPTATION,
                    'RegDA, Objective 1 only (second control)', 'kl', 'both'),
    'oracle': ('oracle-mse_' + SUPERVISED.format('target'), 'Oracle', None, 'target'),
}
#: the configs' heatmaps (24x24 from 96x96 crops, sigma 1) and the sizes a run can ask for
HEATMAP_SIZE, HEATMAP_SIZES = 24, (24, 48)
#: the paper's codec (64x64 heatmaps, sigma 2): a larger heatmap keeps its proportion
PAPER_HEATMAP_SIZE, PAPER_SIGMA = 64, 2.
PARTS = ['MCP', 'PIP', 'DIP', 'Fingertip', 'Avg']
TARGETS = ('target', 'target_pose')
#: Each profile: its rows as (seeds, methods) in the table's order, its budget (the iterations
#: of the source-only training and of every adaptation stage) and where adaptation starts. The
#: full profile's budget is the configs' own: the KL model converged, a game long enough to
#: settle; it adapts from psi alone, as the paper (docs/results.md). The main command's must fit
#: 20 minutes from scratch on 2 cores, so its source-only model stops before converging and its
#: game is half as long, from psi and f (with f new, its 500 iterations would also have to
#: relearn the regressor); it says so when it prints the table.
PROFILES = dict(
    main=dict(rows=[((0, ), ('kl', 'control', 'regda'))], budget=(2000, 500), start='psi+f'),
    full=dict(rows=[((0, 1, 2), ('kl', 'control', 'objective-1', 'dann', 'dd', 'regda')),
                    ((0, ), ('mse', 'dan', 'mcd', 'ground-false-minimax', 'oracle'))],
              budget=(6500, 1000), start='psi'),
)

RUN_TIME = """\
time on 2 CPU cores (docs/results.md): the main profile 17 minutes from scratch (measured);
the full profile about 60 minutes per seed for its 3-seed rows (its stages' measured times:
source only 26, control 4, Objective 1 only 5, RegDA 7, DANN 7, DD 7, each with its two
evaluations about a minute more),
plus about 75 for the one-seed rows (MSE and the oracle are 6500-iteration trainings).
Finished stages are reused: an interrupted run continues where it stopped, and runs of one
budget share their stages."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], epilog=RUN_TIME,
                                     formatter_class=HelpFormatter)
    parser.add_argument('--profile', choices=list(PROFILES), default='main',
                        help='which rows, with which seeds, budget and start: main (source '
                        'only, control, RegDA; one seed) or full (3 seeds for source only, '
                        'the control, RegDA\'s Objective-1-only control, DANN, DD and RegDA; '
                        'one for the others)')
    parser.add_argument('--seeds', type=seed_type, nargs='+',
                        help='training seeds, distinct, in [0, 2**31), for every row (default: '
                        'the profile\'s; the benchmark data itself is fixed)')
    parser.add_argument('--methods', nargs='+', choices=list(METHODS),
                        help='rows of the table (default: the profile\'s)')
    parser.add_argument('--target', choices=TARGETS, default='target',
                        help='the target domain: the primary "real" appearance, or the '
                        'variant that also shifts pose and viewpoint')
    parser.add_argument('--start', choices=('psi', 'psi+f'),
                        help='what the adaptation rows take from the source-only model: psi '
                        'alone with f (and f\') new, as the paper, or psi and f (default: the '
                        'profile\'s, full psi, main psi+f)')
    parser.add_argument('--pretrain-iters', type=positive_int,
                        help='iterations of the source-only stages (default: the profile\'s, '
                        'main 2000, full 6500); the learning-rate drops move with it')
    parser.add_argument('--adaptation-iters', type=positive_int,
                        help='iterations of every adaptation stage and the control (default: '
                        'the profile\'s, main 500, full 1000); the warm-start constant moves '
                        'with it')
    parser.add_argument('--val-interval', type=positive_int,
                        help='validate the adaptation stages every N iterations on the target '
                        'test set (for Fig. 9\'s curves: plot_training_dynamics.py reads them '
                        'from the stages\' logs); training and the reported final models do '
                        'not change (default: no validation during training)')
    parser.add_argument('--heatmap-size', type=int, choices=HEATMAP_SIZES, default=HEATMAP_SIZE,
                        help='heatmaps of every stage, from the same 96x96 crops: 48 adds a '
                        'deconvolution to psi and scales the codec\'s and P_F\'s sigma to the '
                        'paper\'s proportion (1.5); its stages are named _heatmap48')
    parser.add_argument('--work-dir', default='work_dirs/synthetic_hands',
                        help='where the stages, the tables and the picture go; the stages '
                        'that train on the source alone are shared by both targets')
    parser.add_argument('--cfg-options', nargs='*', type=cfg_option, default=[],
                        help='key=value, passed to every training (e.g. '
                        'train_dataloader.batch_size=16; budgets: --pretrain-iters and '
                        '--adaptation-iters, which also name the stages)')
    parser.add_argument('--num-images', type=positive_int, default=8,
                        help='target images in the before/after picture')
    args = parser.parse_args(argv)
    if args.seeds is not None:
        check_distinct(parser, '--seeds', args.seeds, ' (two runs of one seed would report a '
                       'spread of 0)')
    if args.methods is not None:
        check_distinct(parser, '--methods', args.methods)
    args.rows = rows(args.profile, args.seeds, args.methods)
    pretrain, adaptation = PROFILES[args.profile]['budget']
    args.pretrain_iters = args.pretrain_iters or pretrain
    args.adaptation_iters = args.adaptation_iters or adaptation
    args.start = args.start or PROFILES[args.profile]['start']
    return args


def rows(profile, seeds=None, methods=None):
    """(seeds, methods) groups to run: the profile's, or the given seeds and methods; the stage
    every adaptation row starts from is added first."""
    groups = PROFILES[profile]['rows'] if methods is None else [((0, ), tuple(methods))]
    if seeds is not None:
        groups = [(tuple(seeds), group) for _, group in groups]
    completed = []
    for group_seeds, group in groups:
        group = list(group)
        for method in list(group):
            parent = METHODS[method][2]
            if parent is not None and parent not in group:
                group.insert(0, parent)
        completed.append((tuple(group_seeds), tuple(group)))
    return completed


def run(cmd):
    run_tool(cmd)


def domain_options(method, target):
    """Config options pointing a stage at the target variant (none for the primary one)."""
    if target == 'target':
        return []
    trains_on = METHODS[method][3]
    return dict(target=[f'train_dataloader.dataset.domain={target}'],
                both=[f'train_dataloader.dataset.target.domain={target}']).get(trains_on, [])


def start_options(parent_checkpoint, start, adaptation_model=True):
    """How an adaptation stage (or the control, a plain model) starts from its parent's final
    checkpoint (see ``mmpose_regda.utils.adaptation_start_options``), as ``--cfg-options``."""
    from mmpose_regda.utils import adaptation_start_options
    options = []
    for key, value in adaptation_start_options(parent_checkpoint, start,
                                               adaptation_model).items():
        if isinstance(value, dict):
            options += [f'{key}.{k}={v}' for k, v in value.items()]
        else:
            options.append(f'{key}={value}')
    return options


def iterations_of(method, args):
    return args.pretrain_iters if METHODS[method][2] is None else args.adaptation_iters


def budget_options(config, iterations):
    """``--cfg-options`` items that train ``config`` for ``iterations`` instead of its own budget,
    with what the config derives from its budget rescaled alike: the final validation and
    checkpoint, the learning-rate drops, the warm-start constant of the schedule hook."""
    cfg = Config.fromfile(config)
    own = cfg.train_cfg.max_iters
    if iterations == own:
        return []
    options = [f'train_cfg.max_iters={iterations}', f'train_cfg.val_interval={iterations}',
               f'default_hooks.checkpoint.interval={iterations}']
    for i, scheduler in enumerate(cfg.get('param_scheduler') or []):
        if 'milestones' in scheduler:
            milestones = ','.join(str(round(m * iterations / own)) for m in scheduler.milestones)
            options.append(f'param_scheduler.{i}.milestones=[{milestones}]')
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        if hook.get('warmup_iters'):
            warmup = round(hook.warmup_iters * iterations / own)
            options.append(f'custom_hooks.{i}.warmup_iters={warmup}')
        if hook.get('grad_scale'):
            constant = max(1, round(hook.grad_scale.max_iters * iterations / own))
            options.append(f'custom_hooks.{i}.grad_scale.max_iters={constant}')
    return options


def heatmap_variant(args):
    """``_heatmap<S>`` when the run's heatmaps are not the configs' own size, else nothing."""
    return '' if args.heatmap_size == HEATMAP_SIZE else f'_heatmap{args.heatmap_size}'


def run_name(args):
    """``<P>+<N>it[_heatmap<S>][_start-psi+f]``: the budget, the heatmap size when it is not the
    configs' and the start when it is not the paper's, in the names of a run's adaptation
    stages, tables and pictures."""
    return (f'{args.pretrain_iters}+{args.adaptation_iters}it' + heatmap_variant(args) +
            ('' if args.start == 'psi' else '_start-psi+f'))


def stage_dir(method, seed, args):
    """``<work dir>/seed<seed>/<method>_<P>it[_heatmap<S>]`` for a stage trained from scratch (P
    iterations), ``<work dir>/seed<seed>/<method>_<P>+<N>it[_heatmap<S>][_<target>][_start-psi+f]``
    for one adapted from it: a stage that trains on the source alone (source only, the control)
    is the same for both targets."""
    _, _, parent, trains_on = METHODS[method]
    if parent is None:
        return osp.join(args.work_dir, f'seed{seed}',
                        f'{method}_{args.pretrain_iters}it' + heatmap_variant(args))
    name = f'{method}_{args.pretrain_iters}+{args.adaptation_iters}it' + heatmap_variant(args)
    if trains_on != 'source' and args.target != 'target':
        name += f'_{args.target}'
    return osp.join(args.work_dir, f'seed{seed}',
                    name + ('' if args.start == 'psi' else '_start-psi+f'))


def heatmap_options(config, size):
    """``--cfg-options`` items that give ``config``'s model and data ``size`` x ``size`` heatmaps
    from the same crops: one more deconvolution in psi (the neck) per doubling, the codec's
    heatmap size wherever the config encodes or decodes, and the codec's and P_F's sigma in the
    paper's proportion (2 pixels of its 64: 1.5 at 48), so that neighbouring keypoints lie more
    sigma apart than at 24 with sigma 1."""
    cfg = Config.fromfile(config)
    own = cfg.model.head.decoder.heatmap_size[0]
    if size == own:
        return []
    doublings = int(np.log2(size / own))
    neck = cfg.model.neck
    channels = list(neck.out_channels) + [neck.out_channels[-1]] * doublings
    kernels = list(neck.get('kernel_sizes', [4] * len(neck.out_channels))) + [4] * doublings
    options = [f'model.neck.out_channels={channels}'.replace(' ', ''),
               f'model.neck.kernel_sizes={kernels}'.replace(' ', '')]
    sigma = PAPER_SIGMA * size / PAPER_HEATMAP_SIZE

    def codecs(node, path):
        if isinstance(node, dict):
            if node.get('type') == 'MSRAHeatmap':
                yield path
            for key, value in node.items():
                yield from codecs(value, f'{path}.{key}')
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                yield from codecs(value, f'{path}.{i}')

    for key in ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader'):
        for path in codecs(cfg.get(key), key):
            options += [f'{path}.heatmap_size=[{size},{size}]', f'{path}.sigma={sigma}']
    if cfg.model.get('ground_false'):
        options.append(f'model.ground_false.sigma={sigma}')
    return options


def train_stage(method, seed, args):
    config, _, parent, _ = METHODS[method]
    config = osp.join(CONFIGS, config)
    options = [f'randomness.seed={seed}'] + domain_options(method, args.target)
    options += budget_options(config, iterations_of(method, args))
    if parent is not None:
        parent_dir = osp.abspath(stage_dir(parent, seed, args))
        options += start_options(final_checkpoint(parent_dir), args.start,
                                 adaptation_model=method != 'control')
    validate = parent is not None and args.val_interval is not None
    if validate:
        options.append(f'train_cfg.val_interval={args.val_interval}')
        if args.target != 'target':
            options.append(f'val_dataloader.dataset.domain={args.target}')
    options += heatmap_options(config, args.heatmap_size) + list(args.cfg_options)
    return train_stage_in(config, stage_dir(method, seed, args), options,
                          run=lambda cmd: run(cmd), name=f'{method}, seed {seed}',
                          validate=validate)


def evaluate(method, seed, work_dir, domain, args):
    """PCK of the final checkpoint on one domain's test set (cached in the work dir)."""
    test_domain = args.target if domain == 'target' else 'source'
    config = osp.join(CONFIGS, METHODS[method][0])
    metrics = evaluate_stage(config, work_dir, f'pck_{test_domain}.json',
                             [f'test_dataloader.dataset.domain={test_domain}'] +
                             heatmap_options(config, args.heatmap_size),
                             run=lambda cmd: run(cmd))
    return {key.split('/')[-1]: 100 * value for key, value in metrics.items()}


def seeds_of(method, results):
    return sorted(seed for m, seed, domain in results if m == method and domain == 'target')


def format_table(results, methods, target='target', note=''):
    """The paper's table: PCK by part on the target, plus the average on the source."""
    header = f'| Method | {" | ".join(PARTS)} | Avg on source | seeds |'
    lines = [header, '|' + '---|' * (len(PARTS) + 3)]
    for method in methods:
        seeds = seeds_of(method, results)
        cells = []
        for domain, parts in (('target', PARTS), ('source', ['Avg'])):
            for part in parts:
                cells.append(format_over_seeds(
                    [results[(method, seed, domain)][part] for seed in seeds], digits=1))
        lines.append(f'| {METHODS[method][1]} | ' + ' | '.join(cells) +
                     f' | {", ".join(map(str, seeds))} |')
    caption = (f'PCK@0.05 on the {target} test set (500 images), final models{note}; mean ± '
               'sample std over the seeds where there are several')
    return '\n'.join(lines) + f'\n\n{caption}\n'


#: The rows that RegDA's second control (Objective 1 alone) isolates: RegDA's estimator with a
#: game on the target.
REGDA_GAMES = ('regda', 'dd', 'ground-false-minimax', 'regda-mean-teacher')


def format_gains(results, methods, control='control'):
    """Each adaptation row's target (and source) Avg minus the control's, seed by seed; with
    ``control='objective-1'`` the rows of RegDA's estimator over its Objective-1-only run,
    which is what their target objectives add."""
    if control not in methods:
        return ''
    rows_ = [m for m in methods if METHODS[m][2] is not None and m != control and
             (control == 'control' or m in REGDA_GAMES)]
    if not rows_:
        return ''
    seeds = seeds_of(control, results)
    name = 'the control' if control == 'control' else 'Objective 1 only'
    header = (f'| over {name}, target Avg | {" | ".join(f"seed {s}" for s in seeds)} | '
              'mean | source Avg (mean) | above seed noise? |')
    lines = [header, '|' + '---|' * (len(seeds) + 4)]
    for method in rows_:
        gains, source = [], []
        for seed in seeds:
            if (method, seed, 'target') in results:
                gains.append(results[(method, seed, 'target')]['Avg'] -
                             results[(control, seed, 'target')]['Avg'])
                source.append(results[(method, seed, 'source')]['Avg'] -
                              results[(control, seed, 'source')]['Avg'])
        cells = [f'{g:+.1f}' for g in gains] + [''] * (len(seeds) - len(gains))
        spread = format_over_seeds(gains, digits=1) if gains else ''
        lines.append(f'| {METHODS[method][1]} | ' + ' | '.join(cells) +
                     f' | {spread} | {np.mean(source):+.1f} | {noise_verdict(gains)} |')
    return '\n'.join(lines) + '\n'


def noise_verdict(gains):
    """Whether a gain over the control stands above the spread between seeds: its mean more
    than two standard errors from 0. One seed cannot tell."""
    if len(gains) < 2:
        return 'one seed: cannot tell (the full profile runs 3)'
    gains = np.asarray(gains, dtype=float)
    standard_error = gains.std(ddof=1) / np.sqrt(gains.size)
    verdict = 'yes' if abs(gains.mean()) > 2 * standard_error else 'no'
    return f'{verdict} (2 standard errors: {2 * standard_error:.1f})'


def draw_before_after(work_dirs, out_file, num_images, target, heatmap_size=HEATMAP_SIZE):
    """Target predictions of source only (KL) and RegDA, one row each under the ground truth,
    with skeletons."""
    import cv2
    from mmengine.config import DictAction

    from mmpose_regda.utils import atomic_output
    from mmpose_regda.visualization import render_side_by_side

    methods = ('kl', 'regda')
    models = []
    for method in methods:
        config = osp.join(CONFIGS, METHODS[method][0])
        cfg = Config.fromfile(config)
        options = heatmap_options(config, heatmap_size)
        if options:  # parsed as tools/train.py parses them
            parser = argparse.ArgumentParser()
            parser.add_argument('--cfg-options', nargs='+', action=DictAction)
            cfg.merge_from_dict(parser.parse_args(['--cfg-options', *options]).cfg_options)
        models.append((cfg, final_checkpoint(work_dirs[method])))
    dataset = models[0][0].test_dataloader.dataset  # the target test set
    dataset.domain = target
    # pycocotools and the checkpoint loader print as they go: the console shows the result
    with contextlib.redirect_stdout(io.StringIO()):
        image = render_side_by_side(models, [METHODS[m][1] for m in methods], dataset,
                                    num_images, show_gt=True)
    with atomic_output(out_file) as tmp:
        cv2.imwrite(tmp, image)


def prepare_data(target):
    """Generate the benchmark's images (on the first run) two splits at a time, before the
    first stage, where the datasets would otherwise draw them one after the other."""
    from mmpose_regda.datasets.synthetic_hands import generate_splits
    data = Config.fromfile(DATA_CONFIG)
    # where the stages, which run from the repository, find them
    cache_root = osp.join(REPO, 'data', 'synthetic_hands')
    splits = [dict(data[name], cache_root=cache_root) for name in ('source_train', 'source_test')]
    splits += [dict(data[name], cache_root=cache_root, domain=target)
               for name in ('target_train', 'target_test')]
    generate_splits(splits)


def main():
    args = parse_args()
    try:
        run_benchmark(args)
    except StageFailed as e:
        sys.exit(f'error: {e}')


def run_benchmark(args):
    prepare_data(args.target)
    results = {}
    methods = list(dict.fromkeys(m for _, group in args.rows for m in group))
    budget = run_name(args)
    for group_seeds, group in args.rows:
        for seed in group_seeds:
            work_dirs = {}
            for method in group:
                work_dirs[method] = train_stage(method, seed, args)
                for domain in ('target', 'source'):
                    results[(method, seed, domain)] = evaluate(method, seed, work_dirs[method],
                                                               domain, args)
            if {'kl', 'regda'} <= set(work_dirs):
                picture = osp.join(args.work_dir,
                                   f'before_after_{args.target}_{budget}_seed{seed}.png')
                draw_before_after(work_dirs, picture, args.num_images, args.target,
                                  args.heatmap_size)
                print(f'target predictions before/after adaptation: {picture}')
    note = (f'; source only trained for {args.pretrain_iters} iterations, every adaptation row '
            f'and the control for {args.adaptation_iters} from it')
    note += (', adapted from psi alone (f and f\' new), as the paper' if args.start == 'psi' else
             ', adapted from psi and f')
    if args.pretrain_iters < PROFILES['full']['budget'][0]:
        note += (' (a source-only model short of converged, as the main command can afford: '
                 'the full profile\'s tables are the benchmark\'s result)')
    gains = [format_gains(results, methods, control) for control in ('control', 'objective-1')]
    write_table(format_table(results, methods, args.target, note) + '\n' +
                '\n'.join(g for g in gains if g), args.work_dir,
                f'results_{args.target}_{budget}.md')


if __name__ == '__main__':
    main()
