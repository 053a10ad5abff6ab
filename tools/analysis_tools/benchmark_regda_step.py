"""Time one training iteration of RegDA against a source-only model and the reference loop.

Builds, in this process and from dicts (no dataset: synthetic uint8 images and Gaussian
heatmap labels), models that share the generator psi (ResNet-``depth`` + ``DeconvUpsampleNeck``
(256, 256, 256)), the regressor f (``KLHeatmapHead``, one 3x3 conv of 256 channels, 21 keypoints,
heatmaps at 1/4 of the input) and the batch size per domain, and times these variants:

``source_only``
    ``TopdownPoseEstimator`` with psi and f, one SGD ``OptimWrapper``; one iteration is
    mmengine's ``BaseModel.train_step(source_batch, optim_wrapper)``.
``regda``
    ``RegDAPoseEstimator`` and the ``PartOptimWrapperDict`` of ``PartOptimWrapperConstructor``
    (the SGD of ``configs/_base_/schedules/regda_sgd_inverse-decay.py``); one iteration is
    ``model.train_step(dict(source=..., target=...), optim_wrapper)``: the three objectives,
    one update each.
``reference_three_pass``
    The reference implementation's iteration (three psi passes, see
    :func:`reference_three_pass_step`) on a ``RegDAPoseEstimator``'s own modules, for comparison
    only.
``mean_teacher``, ``regda_mean_teacher``
    ``MeanTeacherPoseEstimator`` and RegDA with ``mean_teacher=dict()`` (UDAPE's settings):
    their iteration adds the teacher's pass on its view of the target, the warp of its
    predictions, the student's pass on its own view and the EMA step (:func:`mean_teacher_batch`
    gives the views).

Variants are interleaved so that machine noise hits all of them alike: each of the ``--repeats``
rounds runs ``--warmup`` untimed iterations of every variant, then ``--iters`` times one timed
iteration of each variant in turn (the order rotating from one round to the next). The reported
time is the median over all timed iterations of a variant, next to the median of each round.
On a CPU shared with other processes, ``--threads 1`` gives far steadier timings than several
intra-op threads, whose parallel regions wait for whichever thread was descheduled.

Peak memory is measured in a fresh subprocess per variant (the script re-invokes itself with a
hidden flag): on CUDA ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``, on
CPU the peak RSS of the process (``VmHWM``, what ``ru_maxrss`` reads for it, reset through
``/proc/self/clear_refs`` right before the first iteration; see :func:`memory_probe`), each
minus the allocated memory / RSS right before the first iteration (after the model, optimizers
and batch are built), i.e. what the iterations add: activations, gradients, optimizer state.
The CPU probes run with glibc's mmap threshold fixed (``MALLOC_MMAP_THRESHOLD_``), so that freed
tensors leave the RSS (see :func:`measure_memory`).

Example::

    python tools/analysis_tools/benchmark_regda_step.py --depth 18 --input-size 128 \
        --batch-size 8 --iters 10 --warmup 2 --repeats 2
"""
import argparse
import copy
import gc
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
import torch

import mmpose_regda  # noqa: F401  registers the plugin and applies its compat fixes; keep first

from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData

from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from mmpose_regda.engine.hooks import ChannelsLastHook
from mmpose_regda.models.utils import scale_gradient

VARIANTS = ('source_only', 'regda', 'reference_three_pass', 'mean_teacher',
            'regda_mean_teacher')
#: the estimator of each variant that trains a plugin model (source only: mmpose's own)
ESTIMATORS = dict(regda=dict(type='RegDAPoseEstimator'),
                  reference_three_pass=dict(type='RegDAPoseEstimator'),
                  mean_teacher=dict(type='MeanTeacherPoseEstimator', mean_teacher=dict()),
                  regda_mean_teacher=dict(type='RegDAPoseEstimator', mean_teacher=dict()))
NUM_KEYPOINTS = 21
SEED = 0
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCHEDULE_CFG = osp.join(REPO_ROOT, 'configs', '_base_', 'schedules',
                        'regda_sgd_inverse-decay.py')
MODEL_CFG = osp.join(REPO_ROOT, 'configs', '_base_', 'models',
                     'simplebaseline-kl_res101_256x256.py')
PROBE_MARKER = 'MEMORY_PROBE_RESULT '
MMAP_THRESHOLD = 128 * 1024  # bytes, for the CPU memory probes (see measure_memory)


# ---------------------------------------------------------------------------- models
def model_cfg(args, variant='source_only'):
    """The paper's model (``configs/_base_/models/simplebaseline-kl_res101_256x256.py``) at the
    benchmark's depth and input size, from scratch (nothing downloaded) and without flip test:
    the source-only model, or the variant's estimator sharing psi and f."""
    cfg = Config.fromfile(MODEL_CFG).model.to_dict()
    heatmap_size = args.input_size // 4
    cfg['backbone'] = dict(type='ResNet', depth=args.depth)
    cfg['neck']['in_channels'] = 512 if args.depth < 50 else 2048
    cfg['head']['decoder'].update(input_size=(args.input_size, args.input_size),
                                  heatmap_size=(heatmap_size, heatmap_size))
    cfg['test_cfg'] = dict(flip_test=False)
    cfg.update(copy.deepcopy(ESTIMATORS.get(variant, {})))
    return cfg


def build_model(cfg, device, channels_last=False):
    """The model on ``device``, in training mode; with ``channels_last`` as the plugin's
    configs train it (``ChannelsLastHook``: NHWC weights and inputs)."""
    torch.manual_seed(SEED)  # same initial psi and f in every variant
    model = MODELS.build(copy.deepcopy(cfg))
    model.init_weights()
    model.to(device)
    model.train()
    if channels_last:
        ChannelsLastHook().before_run(SimpleNamespace(model=model))
    return model


def regda_optim_cfg():
    """``optim_wrapper`` of the RegDA schedule config (one SGD per part)."""
    return Config.fromfile(SCHEDULE_CFG).optim_wrapper.to_dict()


def source_only_optim_cfg():
    """One SGD over the whole model, with the generator's settings of the RegDA schedule."""
    generator = regda_optim_cfg()['generator']
    return dict(type='OptimWrapper', optimizer=copy.deepcopy(generator['optimizer']))


# ---------------------------------------------------------------------------- data
def make_samples(batch_size, input_size, generator, labeled):
    """``batch_size`` random uint8 CHW images with PoseDataSamples as ``PackPoseInputs`` packs
    them: labeled ones carry Gaussian ``gt_fields.heatmaps`` (K, h, w) (sigma 2, h = w =
    input/4) and ``gt_instance_labels.keypoint_weights`` (1, K), about 10% of keypoints
    invisible; unlabeled ones (the target domain) only the metainfo."""
    heatmap_size = input_size // 4
    stride = input_size / heatmap_size
    inputs, samples = [], []
    for idx in range(batch_size):
        inputs.append(torch.randint(0, 256, (3, input_size, input_size), generator=generator,
                                    dtype=torch.uint8))
        sample = PoseDataSample(metainfo=dict(
            id=idx, img_id=idx, img_path='<synthetic>', img_shape=(input_size, input_size),
            ori_shape=(input_size, input_size), input_size=(input_size, input_size),
            input_center=[[input_size / 2, input_size / 2]],
            input_scale=[[float(input_size), float(input_size)]], flip=False,
            flip_direction=None, flip_indices=list(range(NUM_KEYPOINTS))))
        if labeled:
            centers = torch.randint(0, heatmap_size, (NUM_KEYPOINTS, 2), generator=generator)
            ys, xs = torch.meshgrid(torch.arange(heatmap_size), torch.arange(heatmap_size),
                                    indexing='ij')
            heatmaps = torch.exp(-((xs - centers[:, :1, None])**2 +
                                   (ys - centers[:, 1:, None])**2) / (2 * 2.**2)).float()
            visible = (torch.rand(1, NUM_KEYPOINTS, generator=generator) > 0.1).float()
            heatmaps = heatmaps * visible[0, :, None, None]
            keypoints = (centers[None].float() * stride).numpy()
            sample.gt_fields = PixelData(heatmaps=heatmaps)
            sample.gt_instance_labels = InstanceData(keypoint_weights=visible)
            sample.gt_instances = InstanceData(keypoints=keypoints,
                                               keypoints_visible=visible.numpy())
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def make_batch(args):
    """The same source and target batches for every variant."""
    generator = torch.Generator().manual_seed(SEED)
    return dict(source=make_samples(args.batch_size, args.input_size, generator, True),
                target=make_samples(args.batch_size, args.input_size, generator, False))


def mean_teacher_batch(batch):
    """The batch with the mean teacher's target views: a teacher's image per target image and
    the warps between the views (the student's rotated by 30 degrees and scaled by 1.2 about
    the centre), as ``MeanTeacherViews`` and ``PackMeanTeacherInputs`` give them."""
    batch = copy.deepcopy(batch)
    target = batch['target']
    generator = torch.Generator().manual_seed(SEED + 1)
    target['teacher_inputs'] = [torch.randint(0, 256, image.shape, generator=generator,
                                              dtype=torch.uint8) for image in target['inputs']]
    size = target['inputs'][0].shape[-1]
    angle = np.deg2rad(30.)
    linear = 1.2 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    student = np.eye(3, dtype=np.float32)
    student[:2, :2] = linear
    student[:2, 2] = size / 2 - linear @ np.array([size / 2, size / 2])
    for sample in target['data_samples']:
        sample.set_metainfo(dict(teacher_warp=np.eye(3, dtype=np.float32),
                                 student_warp=student))
    return batch


# ---------------------------------------------------------------------------- reference loop
def reference_three_pass_step(model, optim_wrapper, data):
    """FOR COMPARISON ONLY: the reference implementation's RegDA iteration, reproduced on the
    modules of a ``RegDAPoseEstimator`` (psi = ``backbone`` + ``neck``, f = ``head``,
    f' = ``adv_head``, the gradient layer = ``scale_gradient`` with
    ``model.adaptation_grad_scale``).

    Like the reference's ``train`` loop (Transfer-Learning-Library, ``regda.py``), the model
    forward always computes both f and f' (f with its graph, as the reference's model does), psi
    runs three times per iteration, and Step B lets f''s loss back-propagate into psi, whose
    gradients Step C then throws away:

    - Step A: zero the grads of all three optimizers; y_s, y_s_adv = f(psi(x_s)),
      f'(gl(psi(x_s))) from one psi pass; loss = L_T(y_s, gt) + w_s * eta * L_T(y_s_adv,
      P_T(argmax y_s)); backward; step all three.
    - Step B: zero f''s grads; a NEW psi pass on x_t, f' reading psi's features through the
      gradient layer (not detached); loss = eta * L_F(y_t_adv, P_F(argmax y_t)); backward (into
      f' and, uselessly, psi); step f'.
    - Step C: zero psi's grads; ANOTHER psi pass on x_t; loss = eta * L_T(f'(gl(feat_t)),
      P_T(argmax f(feat_t))); backward (into f' and psi); step psi.

    It uses the model's own data preprocessor, ``ground_false`` generator, ``disparity_loss``
    and f's ``loss_from_logits`` (which also computes the training PCK, as Objective 1 of the
    model does), so it differs from ``regda`` only in the pass structure. Not part
    of the plugin: never train with it.
    """
    opt_psi = optim_wrapper['generator'].optimizer
    opt_f = optim_wrapper['head'].optimizer
    opt_adv = optim_wrapper['adv_head'].optimizer
    source = model.data_preprocessor(data['source'], True)
    x_s, samples_s = source['inputs'], source['data_samples']
    x_t = model.data_preprocessor(data['target'], True)['inputs']

    def forward(x):  # the reference's model forward: y = f(psi(x)), y_adv = f'(gl(psi(x)))
        feats = model.extract_feat(x)
        y = model.head.forward(feats)
        y_adv = model.adv_head.forward(
            tuple(scale_gradient(feat, model.adaptation_grad_scale) for feat in feats))
        return y, y_adv

    # Step A: psi, f, f' minimise the source loss and the source disparity
    opt_psi.zero_grad()
    opt_f.zero_grad()
    opt_adv.zero_grad()
    y_s, y_s_adv = forward(x_s)
    weights_s = torch.cat([d.gt_instance_labels.keypoint_weights for d in samples_s])
    loss_s = model.head.loss_from_logits(y_s, samples_s, model.train_cfg)['loss_kpt']
    loss_s_disparity = model.source_disparity_weight * model.trade_off * model.disparity_loss(
        y_s_adv, model.ground_false(y_s.detach()).ground_truth, weights_s)
    (loss_s + loss_s_disparity).backward()
    opt_psi.step()
    opt_f.step()
    opt_adv.step()

    # Step B: f' maximises the target disparity (minimises L_F), new psi pass, not detached
    opt_adv.zero_grad()
    y_t, y_t_adv = forward(x_t)
    loss_ground_false = model.trade_off * model.disparity_loss(
        y_t_adv, model.ground_false(y_t.detach()).ground_false)
    loss_ground_false.backward()
    opt_adv.step()

    # Step C: psi minimises the target disparity, yet another psi pass
    opt_psi.zero_grad()
    y_t, y_t_adv = forward(x_t)
    loss_ground_truth = model.trade_off * model.disparity_loss(
        y_t_adv, model.ground_false(y_t.detach()).ground_truth)
    loss_ground_truth.backward()
    opt_psi.step()

    return dict(loss_source=loss_s.detach(), loss_source_disparity=loss_s_disparity.detach(),
                loss_ground_false=loss_ground_false.detach(),
                loss_ground_truth=loss_ground_truth.detach())


# ---------------------------------------------------------------------------- variants
def build_variant(name, args, batch):
    """A zero-argument callable running one training iteration of the variant."""
    device = torch.device(args.device)
    if name == 'source_only':
        model = build_model(model_cfg(args), device, args.channels_last)
        optim_wrapper = build_optim_wrapper(model, source_only_optim_cfg())
        source = batch['source']
        return lambda: model.train_step(source, optim_wrapper)
    model = build_model(model_cfg(args, name), device, args.channels_last)
    optim_cfg = regda_optim_cfg()
    # the schedule's parts that this model has (the mean teacher has no f')
    optim_wrapper = build_optim_wrapper(model, {
        k: v for k, v in optim_cfg.items()
        if not (isinstance(v, dict) and 'optimizer' in v) or k in model.optim_parts()})
    if 'mean_teacher' in name:
        teacher_batch = mean_teacher_batch(batch)
        return lambda: model.train_step(teacher_batch, optim_wrapper)
    if name == 'reference_three_pass':
        return lambda: reference_three_pass_step(model, optim_wrapper, batch)
    return lambda: model.train_step(batch, optim_wrapper)


def check_finite(name, log_vars):
    for key, value in log_vars.items():
        if key.startswith('loss') and not torch.isfinite(value).all():
            raise FloatingPointError(f'{name}: {key} = {value}')


def synchronize(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def run_block(step, n, device, timed):
    times = []
    log_vars = None
    for _ in range(n):
        synchronize(device)
        start = time.perf_counter()
        log_vars = step()
        synchronize(device)
        if timed:
            times.append(time.perf_counter() - start)
    return times, log_vars


# ---------------------------------------------------------------------------- memory
def _proc_status_bytes(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024  # kB
    raise KeyError(field)


def reset_peak_rss():
    """Reset this address space's peak RSS (VmHWM, what ``ru_maxrss`` reads) to the current
    RSS; False where /proc/self/clear_refs is not writable."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def memory_probe(args):
    """Child process: build one variant, measure what its iterations add to peak memory.

    On CPU the peak is the peak RSS of this address space (``VmHWM``), reset right before the
    first iteration. ``ru_maxrss`` alone cannot serve: besides the peak reached while importing
    and building, it keeps (through ``exec``) the peak RSS of the parent that spawned this
    process, i.e. of the benchmark with all its models; it is reported as ``ru_maxrss`` for
    reference only.
    """
    device = torch.device(args.device)
    batch = make_batch(args)
    step = build_variant(args.memory_probe, args, batch)
    gc.collect()
    if device.type == 'cuda':
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        _, log_vars = run_block(step, args.memory_iters, device, timed=False)
        peak = torch.cuda.max_memory_allocated(device)
        result = dict(growth=peak - before, before=before, peak=peak, valid=True)
    else:
        reset = reset_peak_rss()
        before = _proc_status_bytes('VmRSS')
        peak_before = _proc_status_bytes('VmHWM')
        _, log_vars = run_block(step, args.memory_iters, device, timed=False)
        peak = _proc_status_bytes('VmHWM')
        # without the reset, a peak that the iterations did not exceed is not theirs
        result = dict(growth=peak - before, before=before, peak=peak, reset=reset,
                      valid=reset or peak > peak_before,
                      ru_maxrss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    check_finite(args.memory_probe, log_vars)
    print(PROBE_MARKER + json.dumps(result), flush=True)


def measure_memory(name, args):
    cmd = [sys.executable, osp.abspath(__file__), '--depth', str(args.depth), '--input-size',
           str(args.input_size), '--batch-size', str(args.batch_size), '--device', args.device,
           '--memory-iters', str(args.memory_iters), '--memory-probe', name,
           '--channels-last' if args.channels_last else '--no-channels-last']
    if args.threads:
        cmd += ['--threads', str(args.threads)]
    env = dict(os.environ)
    if args.device == 'cpu':
        # glibc's malloc raises its mmap threshold as large blocks are freed, after which freed
        # tensors stay in the heap and the peak RSS depends on fragmentation (+-15 MiB run to
        # run); a fixed threshold returns every large tensor to the OS on free, so the peak RSS
        # follows the live memory and repeats exactly. Only the probe runs with it.
        env.setdefault('MALLOC_MMAP_THRESHOLD_', str(MMAP_THRESHOLD))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith(PROBE_MARKER):
            return json.loads(line[len(PROBE_MARKER):])
    raise RuntimeError(f'memory probe of {name} failed (exit {proc.returncode}):\n'
                       f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')


# ---------------------------------------------------------------------------- main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--depth', type=int, default=18, choices=(18, 34, 50, 101, 152))
    parser.add_argument('--input-size', type=int, default=128, help='square input side')
    parser.add_argument('--batch-size', type=int, default=8, help='per domain')
    parser.add_argument('--iters', type=int, default=20,
                        help='timed iterations per variant and round')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed iterations per variant and round')
    parser.add_argument('--repeats', type=int, default=3,
                        help='round-robin rounds over the variants')
    parser.add_argument('--device', default='cpu', choices=('cpu', 'cuda'))
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument('--channels-last', action=argparse.BooleanOptionalAction, default=True,
                        help='NHWC weights and inputs, as the plugin\'s configs train')
    parser.add_argument('--threads', type=int, default=0,
                        help='torch.set_num_threads (0: leave torch\'s default)')
    parser.add_argument('--memory-iters', type=int, default=3,
                        help='iterations run in each memory probe')
    parser.add_argument('--no-memory', action='store_true', help='skip the memory probes')
    parser.add_argument('--memory-probe', choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.input_size % 4:
        parser.error('--input-size must be a multiple of 4')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: CUDA is not available')
    return args


def fmt_ratio(value, base):
    return f'{value / base:.2f}x' if value is not None and base else 'n/a'


def main():
    args = parse_args()
    # mmengine/mmpose log through the current MMLogger: keep build messages off the output
    MMLogger.get_instance('benchmark_regda_step', log_level='WARNING')
    init_default_scope('mmpose')
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_probe:
        memory_probe(args)
        return
    device = torch.device(args.device)
    variants = list(dict.fromkeys(args.variants))

    print('RegDA training-iteration benchmark')
    print(f'  torch {torch.__version__}, device {args.device}'
          + (f' ({torch.cuda.get_device_name(device)})' if device.type == 'cuda' else '')
          + f', intra-op threads {torch.get_num_threads()}, '
          f'inter-op threads {torch.get_num_interop_threads()}')
    print(f'  ResNet-{args.depth} + DeconvUpsampleNeck(256,256,256), KLHeatmapHead '
          f'(256-ch 3x3 conv), {NUM_KEYPOINTS} keypoints, input {args.input_size}x'
          f'{args.input_size}, heatmap {args.input_size // 4}x{args.input_size // 4}, '
          f'{"channels-last" if args.channels_last else "NCHW"} memory layout')
    print(f'  batch size {args.batch_size} per domain (RegDA variants: {args.batch_size} '
          f'source + {args.batch_size} target images), iters {args.iters} timed + '
          f'{args.warmup} warm-up per variant and round, {args.repeats} rounds '
          '(iterations interleaved round-robin)')
    print(f'  optimizers: {SCHEDULE_CFG[len(REPO_ROOT) + 1:]} (source_only: one SGD with the '
          'generator\'s settings)')
    sys.stdout.flush()

    batch = make_batch(args)
    steps = {}
    for name in variants:
        steps[name] = build_variant(name, args, batch)

    times = {name: [] for name in variants}
    round_medians = {name: [] for name in variants}
    t0 = time.perf_counter()
    for repeat in range(args.repeats):
        shift = repeat % len(variants)
        order = variants[shift:] + variants[:shift]
        gc.collect()
        for name in order:
            run_block(steps[name], args.warmup, device, timed=False)
        repeat_times = {name: [] for name in variants}
        # one iteration of each variant in turn: a burst of load from other processes slows
        # all variants alike instead of one variant's whole block
        for _ in range(args.iters):
            for name in order:
                block, log_vars = run_block(steps[name], 1, device, timed=True)
                check_finite(name, log_vars)
                repeat_times[name] += block
        for name in variants:
            times[name] += repeat_times[name]
            round_medians[name].append(statistics.median(repeat_times[name]))
    timing_wall = time.perf_counter() - t0
    del steps
    gc.collect()

    medians = {name: statistics.median(times[name]) for name in variants}
    memory = {}
    if not args.no_memory:
        for name in variants:
            memory[name] = measure_memory(name, args)

    mib = 1024.**2
    base_time = medians.get('source_only')
    base_mem = memory['source_only']['growth'] if 'source_only' in memory else None
    if device.type == 'cuda':
        mem_measure = 'CUDA max_memory_allocated - memory_allocated before the 1st iteration'
    elif all(m.get('reset') for m in memory.values()):
        mem_measure = ('peak RSS (VmHWM: ru_maxrss of the address space, reset via '
                       '/proc/self/clear_refs) - RSS, both from right before the 1st iteration, '
                       'glibc MALLOC_MMAP_THRESHOLD_='
                       + os.environ.get('MALLOC_MMAP_THRESHOLD_', str(MMAP_THRESHOLD)))
    else:
        mem_measure = 'peak RSS (VmHWM, NOT reset) - RSS before the 1st iteration'
    print()
    print(f'timing: {timing_wall:.1f} s wall for the warm-up and timed iterations')
    print(f'memory: {mem_measure}, fresh subprocess per variant, '
          f'{args.memory_iters} iterations' if memory else 'memory: not measured')
    print()
    header = (f'{"variant":<22} {"median s/iter":>13} {"vs source_only":>15} '
              f'{"peak mem MiB":>13} {"vs source_only":>15}  median per round (s)')
    print(header)
    print('-' * len(header))
    for name in variants:
        mem = memory.get(name)
        mem_str = (f'{mem["growth"] / mib:.1f}' + ('' if mem['valid'] else '?')) if mem else '-'
        print(f'{name:<22} {medians[name]:>13.4f} {fmt_ratio(medians[name], base_time):>15} '
              f'{mem_str:>13} '
              f'{fmt_ratio(mem["growth"] if mem else None, base_mem):>15}  '
              + ', '.join(f'{m:.4f}' for m in round_medians[name]))
    if 'reference_three_pass' in medians and 'regda' in medians:
        ref, seq = 'reference_three_pass', 'regda'
        line = f'\n{ref} / {seq}: time {medians[ref] / medians[seq]:.2f}x'
        if ref in memory and seq in memory:
            line += f', memory {memory[ref]["growth"] / memory[seq]["growth"]:.2f}x'
        print(line)
    if any(not m['valid'] for m in memory.values()):
        print('? the iterations did not raise the peak RSS above the peak reached while '
              'building the model: that growth is not measured')
    if memory and device.type == 'cpu':
        print('memory before the 1st iteration (RSS, MiB): ' + ', '.join(
            f'{name} {m["before"] / mib:.0f}' for name, m in memory.items()))


if __name__ == '__main__':
    main()
