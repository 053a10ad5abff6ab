"""Throughput and memory of source-only and RegDA training at the paper's scale, per precision and
memory layout, on one device (a GPU; ``--device cpu`` checks that the script works).

The models of ``benchmark_regda_step.py`` (ResNet-``depth`` + three 256-channel deconvs, the
paper's 2-layer head, 21 keypoints, heatmaps at 1/4 of the input), random initialisation (no
weights can be downloaded), synthetic batches of ``--batch-size`` images per domain. For every
memory layout (channels-last as the plugin's configs train by default, or contiguous NCHW) and
precision (float32; float16 and bfloat16 autocast, as ``--amp`` trains), each variant is built
afresh and timed alone after its warm-up:

- ``source_only``: ``TopdownPoseEstimator`` with mmengine's ``OptimWrapper`` (``AmpOptimWrapper``
  in mixed precision, which mmengine runs on CUDA only);
- ``regda``: ``RegDAPoseEstimator`` with the plugin's ``PartOptimWrapperDict`` (a loss scale per
  objective in float16).

It prints images per second and domain (the batch size over the median iteration time), the
peak memory of the iterations (CUDA: ``max_memory_allocated``; not measured on CPU) and the
ratios (RegDA / source only, each precision / float32, channels-last / NCHW), and writes them all
to ``--json``.

    python tools/analysis_tools/benchmark_device.py --device cuda --json device.json
"""
import argparse
import copy
import gc
import json
import statistics
import sys
import time

import torch

from benchmark_regda_step import (NUM_KEYPOINTS, build_model, make_batch, model_cfg,
                                  regda_optim_cfg, source_only_optim_cfg, synchronize)
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

PRECISIONS = ('float32', 'float16', 'bfloat16')
LAYOUTS = ('channels_last', 'contiguous')
VARIANTS = ('source_only', 'regda')


def build_step(variant, precision, layout, args, batch):
    """A zero-argument callable running one training iteration, or None where it cannot run."""
    device = torch.device(args.device)
    regda = variant == 'regda'
    model = build_model(model_cfg(args, variant), device, layout == 'channels_last')
    if regda:
        optim_cfg = regda_optim_cfg()
        if precision != 'float32':
            # measured on a CPU too, where the plugin refuses float16 for training runs
            optim_cfg.update(type='AmpOptimWrapper', dtype=precision, allow_cpu_float16=True)
        optim_wrapper = build_optim_wrapper(model, optim_cfg)
        return lambda: model.train_step(batch, optim_wrapper)
    optim_cfg = source_only_optim_cfg()
    if precision != 'float32':
        if device.type != 'cuda':
            return None  # mmengine's AmpOptimWrapper asserts a GPU
        optim_cfg.update(type='AmpOptimWrapper', dtype=precision, loss_scale='dynamic')
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    source = batch['source']
    return lambda: model.train_step(source, optim_wrapper)


def measure(step, args):
    device = torch.device(args.device)
    for _ in range(args.warmup):
        step()
    synchronize(device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
    times = []
    for _ in range(args.iters):
        synchronize(device)
        start = time.perf_counter()
        step()
        synchronize(device)
        times.append(time.perf_counter() - start)
    peak = (torch.cuda.max_memory_allocated(device) - before) / 2**20 \
        if device.type == 'cuda' else None
    seconds = statistics.median(times)
    return dict(seconds_per_iter=seconds, images_per_second_per_domain=args.batch_size / seconds,
                peak_memory_mib=peak)


def ratio(a, b):
    return None if a is None or b is None else a / b


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--device', default='cuda', choices=('cuda', 'cpu'))
    parser.add_argument('--depth', type=int, default=101, choices=(18, 34, 50, 101, 152))
    parser.add_argument('--input-size', type=int, default=256)
    parser.add_argument('--batch-size', type=int, default=32, help='images per domain')
    parser.add_argument('--iters', type=int, default=20, help='timed iterations per variant')
    parser.add_argument('--warmup', type=int, default=5, help='untimed iterations first')
    parser.add_argument('--precisions', nargs='+', default=list(PRECISIONS), choices=PRECISIONS)
    parser.add_argument('--layouts', nargs='+', default=list(LAYOUTS), choices=LAYOUTS)
    parser.add_argument('--json', help='write the figures to this file')
    args = parser.parse_args(argv)
    if args.input_size % 4:
        parser.error(f'--input-size must be a multiple of 4, got {args.input_size}')
    if min(args.iters, args.batch_size) < 1 or args.warmup < 0:
        parser.error('--iters and --batch-size must be >= 1, --warmup >= 0')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: no CUDA device here (use --device cpu to check the script)')
    return args


def main(argv=None):
    args = parse_args(argv)
    MMLogger.get_instance('benchmark_device', log_level='WARNING')
    init_default_scope('mmpose')
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'
    print(f'device: {name}, torch {torch.__version__}; ResNet-{args.depth}, input '
          f'{args.input_size}x{args.input_size}, {NUM_KEYPOINTS} keypoints, batch '
          f'{args.batch_size} per domain; {args.warmup} warm-up + {args.iters} timed iterations',
          flush=True)
    batch = make_batch(args)
    results = {}
    for layout in args.layouts:
        for precision in args.precisions:
            for variant in VARIANTS:
                step = build_step(variant, precision, layout, args, copy.deepcopy(batch))
                results[(variant, precision, layout)] = None if step is None else measure(
                    step, args)
                del step
                gc.collect()
                if device.type == 'cuda':
                    torch.cuda.empty_cache()

    def seconds(variant, precision, layout):
        return (results.get((variant, precision, layout)) or {}).get('seconds_per_iter')

    def cell(value, fmt):
        return 'n/a' if value is None else format(value, fmt)

    rows = []
    header = (f'{"variant":<12} {"precision":<9} {"layout":<14} {"s/iter":>8} '
              f'{"img/s/domain":>13} {"peak MiB":>9} {"vs source":>10} {"vs fp32":>8} '
              f'{"vs NCHW":>8}')
    print('\n' + header + '\n' + '-' * len(header))
    for (variant, precision, layout), measured in results.items():
        own = seconds(variant, precision, layout)
        row = dict(variant=variant, precision=precision, layout=layout,
                   seconds_per_iter=own,
                   images_per_second_per_domain=(measured or {}).get(
                       'images_per_second_per_domain'),
                   peak_memory_mib=(measured or {}).get('peak_memory_mib'),
                   regda_over_source_only=ratio(seconds('regda', precision, layout),
                                                seconds('source_only', precision, layout)),
                   over_float32=ratio(own, seconds(variant, 'float32', layout)),
                   over_contiguous=ratio(own, seconds(variant, precision, 'contiguous')))
        rows.append(row)
        print(f'{variant:<12} {precision:<9} {layout:<14} {cell(own, ">8.4f")} '
              f'{cell(row["images_per_second_per_domain"], ">13.1f")} '
              f'{cell(row["peak_memory_mib"], ">9.0f")} '
              f'{cell(row["regda_over_source_only"], ">10.2f")} '
              f'{cell(row["over_float32"], ">8.2f")} {cell(row["over_contiguous"], ">8.2f")}')
    if any(r is None for r in results.values()):
        print('n/a: source-only mixed precision runs on CUDA only (mmengine\'s AmpOptimWrapper)')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(device=name, torch=torch.__version__, depth=args.depth,
                           input_size=args.input_size, batch_size=args.batch_size,
                           iters=args.iters, warmup=args.warmup, rows=rows), f, indent=1)
        print(f'figures written to {args.json}')


if __name__ == '__main__':
    sys.exit(main())
