"""Adaptation models (RegDA by default, any estimator of the plugin by ``type=``) small enough for
unit tests, and synthetic two-domain batches."""
import copy

import numpy as np
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData

from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

NUM_KEYPOINTS = 4
INPUT_SIZE = 32
HEATMAP_SIZE = 8


@MODELS.register_module(force=True)
class TinyBackbone(nn.Module):
    """Two stride-2 convolutions: (B, 3, 32, 32) -> (B, 8, 8, 8), optionally without BN."""

    def __init__(self, with_bn=True):
        super().__init__()
        norm = (lambda c: nn.BatchNorm2d(c)) if with_bn else (lambda c: nn.Identity())
        self.layers = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1), norm(8), nn.ReLU(),
            nn.Conv2d(8, 8, 3, stride=2, padding=1), norm(8), nn.ReLU())

    def forward(self, x):
        return (self.layers(x), )


def tiny_regda_cfg(**overrides):
    head = dict(type='KLHeatmapHead', in_channels=8, out_channels=NUM_KEYPOINTS,
                deconv_out_channels=None, conv_out_channels=(8, ), conv_kernel_sizes=(3, ),
                decoder=dict(type='MSRAHeatmap', input_size=(INPUT_SIZE, INPUT_SIZE),
                             heatmap_size=(HEATMAP_SIZE, HEATMAP_SIZE), sigma=1))
    cfg = dict(
        type='RegDAPoseEstimator',
        data_preprocessor=dict(type='PoseDataPreprocessor', mean=[128.] * 3, std=[64.] * 3),
        backbone=dict(type='TinyBackbone'),
        head=head,
        ground_false=dict(type='GroundFalseTargetGenerator', sigma=1.),
        adaptation_grad_scale=1.,
        test_cfg=dict(flip_test=False))
    if overrides.get('type', cfg['type']) != 'RegDAPoseEstimator':
        del cfg['ground_false'], cfg['adaptation_grad_scale']  # RegDA's own arguments
    cfg.update(overrides)
    return cfg


def build_tiny_regda(seed=0, **overrides):
    init_default_scope('mmpose')
    torch.manual_seed(seed)
    model = MODELS.build(tiny_regda_cfg(**overrides))
    model.init_weights()
    # heads start from small normal weights; larger ones make the unit tests' gradients visible
    for module in (model.head, getattr(model, 'adv_head', None)):
        if module is not None:
            nn.init.normal_(module.final_layer.weight, std=0.1)
    model.train()
    return model


def build_optim_wrapper(model, lr=0.1, momentum=0., weight_decay=0., **options):
    """A ``PartOptimWrapperDict`` of one SGD per part; ``options`` go to every part
    (``accumulative_counts``, ``clip_grad``) or, for ``type``/``dtype``/``loss_scale``, to the
    top level (mixed precision)."""
    from mmengine.optim import build_optim_wrapper
    precision = {k: options.pop(k) for k in ('type', 'dtype', 'loss_scale') if k in options}
    if 'type' in precision:  # float16 on a CPU, refused for training runs, is what is tested
        precision['allow_cpu_float16'] = True
    sgd = dict(type='SGD', lr=lr, momentum=momentum, weight_decay=weight_decay)
    return build_optim_wrapper(model, dict(
        constructor='PartOptimWrapperConstructor', **precision,
        **{part: dict(optimizer=copy.deepcopy(sgd), **copy.deepcopy(options))
           for part in model.optim_parts()}))


def make_samples(batch_size, generator, labeled=True, heatmap_size=HEATMAP_SIZE):
    """Random images and (if labeled) random Gaussian heatmap labels."""
    inputs, samples = [], []
    for _ in range(batch_size):
        inputs.append(torch.randint(0, 256, (3, INPUT_SIZE, INPUT_SIZE), generator=generator,
                                    dtype=torch.uint8))
        sample = PoseDataSample(metainfo=dict(
            input_size=(INPUT_SIZE, INPUT_SIZE), input_center=np.array([16., 16.]),
            input_scale=np.array([32., 32.]), flip_indices=list(range(NUM_KEYPOINTS))))
        if labeled:
            centers = torch.randint(0, heatmap_size, (NUM_KEYPOINTS, 2), generator=generator)
            ys, xs = torch.meshgrid(torch.arange(heatmap_size), torch.arange(heatmap_size),
                                    indexing='ij')
            heatmaps = torch.exp(-((xs - centers[:, :1, None])**2 +
                                   (ys - centers[:, 1:, None])**2) / 2.).float()
            weights = (torch.rand(1, NUM_KEYPOINTS, generator=generator) > 0.2).float()
            keypoints = centers[None].float() * (INPUT_SIZE / heatmap_size)
            sample.gt_fields = PixelData(heatmaps=heatmaps)
            sample.gt_instance_labels = InstanceData(keypoint_weights=weights)
            sample.gt_instances = InstanceData(keypoints=keypoints.numpy(),
                                               keypoints_visible=weights.numpy(),
                                               bboxes=np.array([[0., 0., 32., 32.]]),
                                               bbox_scores=np.ones(1))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def make_two_domain_batch(batch_size=2, seed=0, heatmap_size=HEATMAP_SIZE):
    generator = torch.Generator().manual_seed(seed)
    return dict(source=make_samples(batch_size, generator, heatmap_size=heatmap_size),
                target=make_samples(batch_size, generator, heatmap_size=heatmap_size))


def parameters_by_part(model):
    """{part: {name: tensor copy}} for each part of the model's optimizers (psi = generator,
    f = head, f' = adv_head, ...)."""
    parts = {part: tuple(f'{module}.' for module in modules)
             for part, modules in model.optim_parts().items()}
    out = {part: {} for part in parts}
    for name, param in model.named_parameters():
        for part, prefixes in parts.items():
            if name.startswith(prefixes):
                out[part][name] = param.detach().clone()
    return out


def changed_parts(before, after):
    return {part for part in before
            if any(not torch.equal(before[part][n], after[part][n]) for n in before[part])}


def record_objectives(model, monkeypatch):
    """Spy on the optimizer's updates to note which parts each objective changed, by the
    objective's display name up to its parenthesis ('Objective 1', 'Step A', ...)."""
    from mmpose_regda.engine.optim_wrappers import PartOptimWrapperDict
    original = PartOptimWrapperDict.update_parts
    record = {}

    def spy(self, loss, update, log_vars=None):
        before = parameters_by_part(model)
        original(self, loss, update, log_vars)
        record[update.name.split(' (')[0]] = changed_parts(before, parameters_by_part(model))

    monkeypatch.setattr(PartOptimWrapperDict, 'update_parts', spy)
    return record


def grads_by_part(model):
    out = {}
    for part, params in parameters_by_part(model).items():
        grads = [p.grad for n, p in model.named_parameters() if n in params]
        out[part] = any(g is not None and g.abs().sum() > 0 for g in grads)
    return out


def corrupt_target_labels(batch, seed):
    generator = torch.Generator().manual_seed(seed)
    for sample in batch['target']['data_samples']:
        sample.gt_fields.heatmaps = torch.rand(sample.gt_fields.heatmaps.shape,
                                               generator=generator) * 100
        weights = sample.gt_instance_labels.keypoint_weights
        sample.gt_instance_labels.keypoint_weights = torch.rand(weights.shape,
                                                                generator=generator)
        sample.gt_instances.keypoints = sample.gt_instances.keypoints * -7 + 3
    return batch


def assert_target_labels_never_matter(build, batch_size=2):
    """Two copies of a model, one step each on the same images, the second batch's target
    labels replaced by garbage: every log variable and every parameter must come out equal."""
    model_a = build()
    model_b = copy.deepcopy(model_a)
    batch_a = make_two_domain_batch(batch_size=batch_size, seed=1)
    batch_b = corrupt_target_labels(make_two_domain_batch(batch_size=batch_size, seed=1), seed=2)
    log_a = model_a.train_step(batch_a, build_optim_wrapper(model_a, momentum=0.9))
    log_b = model_b.train_step(batch_b, build_optim_wrapper(model_b, momentum=0.9))
    for key in log_a:
        assert torch.equal(log_a[key], log_b[key]), key
    state_b = model_b.state_dict()
    for name, value in model_a.state_dict().items():
        assert torch.equal(value, state_b[name]), name
