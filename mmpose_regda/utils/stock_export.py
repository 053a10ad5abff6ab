"""Export a plugin model as a plain MMPose ``TopdownPoseEstimator`` that stock MMPose loads.

Inference uses psi (backbone + ``DeconvUpsampleNeck``) and f (``KLHeatmapHead``) alone. MMPose's
``HeatmapHead`` is deconvolutions, then convolutions, then a final 1x1 convolution: the neck's
deconvolutions become the head's (``neck.layers.i`` -> ``head.deconv_layers.i``, the same
ConvTranspose2d / BatchNorm2d / ReLU sequence), f's layers stay where they are. The adversarial
head f' (or any other adaptation part), the optimizers' state, the message hub and the
schedulers are left out. Every module of the result is one MMPose registers itself.

Decoding. ``KLHeatmapHead`` decodes the spatial softmax of its logits; ``HeatmapHead`` decodes
its output as it is. MMPose's decoders take the integer argmax, then move it a quarter pixel
towards the larger neighbour: both depend only on the order of the values, which the softmax
keeps, so the coordinates are the same, with one exception: ``get_heatmap_maximum`` marks a
keypoint invalid where its peak is <= 0, which logits can be (the KL loss fixes them only up to
a constant per keypoint: its gradient sums to zero over the map). So the export shifts each
keypoint's logits by a constant, which changes no softmax: by default (``'auto'``) by minus
the keypoint's average logit over the training data, read from the statistics of the last
batch norm before the final layer, so that a peak sits several units above zero (a peak is far
above the map's average logit). The scores then differ: the plugin reports the peak
probability of the softmax, the export the peak logit above the keypoint's average. Decoders
that transform the values first (``unbiased=True`` DARK refinement, a blur) would not give the
same coordinates: the export refuses them for KL heads.

Flip test. ``KLHeatmapHead`` averages the two passes' probabilities, ``HeatmapHead`` its
outputs, which are then logits: a geometric mean of the distributions, whose peak can be
elsewhere where two peaks compete. So an exported KL model tests without flip by default, and
then predicts what the plugin model predicts without flip; ``keep_flip_test`` keeps MMPose's
flip test (averaged logits) instead. MSE heads (``HeatmapHead`` already) keep theirs.
"""
import copy
import hashlib
import inspect
import io
import math
import os.path as osp
from collections import OrderedDict
from datetime import date
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config

from .atomic_output import atomic_output

PLUGIN_PACKAGE = 'mmpose_regda'
#: plugin modules and what the export makes of them
FOLDED_NECKS = ('DeconvUpsampleNeck', )
KL_HEADS = ('KLHeatmapHead', )
#: test_cfg keys only the plugin's estimators and heads read
PLUGIN_TEST_CFG_KEYS = ('adv_head_predictions', 'output_logits')
#: keypoint layouts of the plugin that MMPose has under another name (same order and names)
STOCK_DATASETS = {
    21: ('FreiHandDataset', 'configs/_base_/datasets/freihand2d.py'),
    16: ('MpiiDataset', 'configs/_base_/datasets/mpii.py'),
}


class ExportError(ValueError):
    """A config or checkpoint that cannot be expressed with MMPose's own modules."""


def _registered_by_mmpose(registry, type_name: str, what: str) -> None:
    module = registry.get(type_name)
    if module is None:
        raise ExportError(f'{what} type {type_name!r} is not registered')
    if module.__module__.startswith(PLUGIN_PACKAGE):
        raise ExportError(f'{what} {type_name!r} is a module of {PLUGIN_PACKAGE}, which the '
                          'export cannot map onto MMPose\'s own modules')


#: a heatmap head's arguments that shape its layers
HEAD_STRUCTURE = ('deconv_out_channels', 'deconv_kernel_sizes', 'conv_out_channels',
                  'conv_kernel_sizes', 'final_layer')


def _with_structure_defaults(module_cfg: dict, registry, names=HEAD_STRUCTURE) -> dict:
    """``module_cfg`` with the layer-shaping arguments it leaves to its class's defaults
    written out: ``HeatmapHead`` and ``KLHeatmapHead`` default differently."""
    module_cfg = dict(module_cfg)
    signature = inspect.signature(registry.get(module_cfg['type']))
    for name in names:
        if name not in module_cfg and name in signature.parameters:
            default = signature.parameters[name].default
            module_cfg[name] = copy.deepcopy(default) if default is not None else None
    return module_cfg


def stock_model_config(model_cfg: dict, keep_flip_test: bool = False) -> Tuple[dict, int]:
    """The ``TopdownPoseEstimator`` config of a plugin model config (``keep_flip_test``: see
    the module).

    Returns:
        tuple: the model config, and how many ConvTranspose2d/BN/ReLU layers of the neck went
        in front of the head's own deconvolutions.
    """
    from mmpose.registry import KEYPOINT_CODECS, MODELS

    cfg = copy.deepcopy(dict(model_cfg))
    for key in ('backbone', 'head'):
        if not cfg.get(key):
            raise ExportError(f'the model has no `{key}`: only top-down heatmap models export')
    backbone = dict(cfg['backbone'], init_cfg=None)
    _registered_by_mmpose(MODELS, backbone['type'], 'backbone')
    head = _with_structure_defaults(cfg['head'], MODELS)
    neck = cfg.get('neck')
    folded = 0
    stock_neck = None
    if neck and neck['type'] in FOLDED_NECKS:
        neck = _with_structure_defaults(neck, MODELS, ('out_channels', 'kernel_sizes'))
        deconv_channels = list(neck['out_channels'])
        deconv_kernels = list(neck['kernel_sizes'])
        folded = 3 * len(deconv_channels)
        head_channels = list(head.get('deconv_out_channels') or [])
        head_kernels = list(head.get('deconv_kernel_sizes') or [])
        head.update(in_channels=neck['in_channels'],
                    deconv_out_channels=deconv_channels + head_channels,
                    deconv_kernel_sizes=deconv_kernels + head_kernels)
    elif neck:
        _registered_by_mmpose(MODELS, neck['type'], 'neck')
        stock_neck = neck
    if head['type'] in KL_HEADS:
        decoder = head.get('decoder') or {}
        if decoder.get('type') != 'MSRAHeatmap' or decoder.get('unbiased', False):
            raise ExportError(
                f'a {head["type"]} decodes the softmax of its logits; an MMPose HeatmapHead '
                'decodes to the same coordinates only with MSRAHeatmap(unbiased=False), got '
                f'decoder {decoder}')
    elif head['type'] != 'HeatmapHead':
        raise ExportError(f'head {head["type"]!r}: only KLHeatmapHead and HeatmapHead export')
    kl_head = head['type'] in KL_HEADS
    head['type'] = 'HeatmapHead'
    # a HeatmapHead needs one of MMPose's losses to be built; the exported model is for
    # inference (training a KL head needs the plugin's SpatialKLLoss)
    head['loss'] = dict(type='KeypointMSELoss', use_target_weight=True)
    head.pop('init_cfg', None)
    if head.get('decoder'):
        _registered_by_mmpose(KEYPOINT_CODECS, head['decoder']['type'], 'decoder')
    test_cfg = {k: v for k, v in (cfg.get('test_cfg') or {}).items()
                if k not in PLUGIN_TEST_CFG_KEYS}
    if kl_head and not keep_flip_test:
        test_cfg['flip_test'] = False
    stock = dict(type='TopdownPoseEstimator', data_preprocessor=cfg.get('data_preprocessor'),
                 backbone=backbone, head=head, test_cfg=test_cfg)
    if stock_neck is not None:
        stock['neck'] = stock_neck
    if stock['data_preprocessor'] is not None:
        _registered_by_mmpose(MODELS, stock['data_preprocessor']['type'], 'data preprocessor')
    return stock, folded


def stock_state_dict(state_dict: Dict[str, torch.Tensor],
                     folded: int) -> Tuple['OrderedDict[str, torch.Tensor]', List[str]]:
    """Map psi's and f's weights onto the exported model's keys; returns it and the keys left
    out (f', discriminators, ...)."""
    stock, dropped = OrderedDict(), []
    for key, value in state_dict.items():
        part, _, rest = key.partition('.')
        if part == 'backbone':
            stock[key] = value
        elif part == 'neck' and folded and rest.startswith('layers.'):
            stock['head.deconv_layers.' + rest[len('layers.'):]] = value
        elif part == 'neck' and not folded:
            stock[key] = value
        elif part == 'head' and rest.startswith('deconv_layers.'):
            index, _, tail = rest[len('deconv_layers.'):].partition('.')
            stock[f'head.deconv_layers.{int(index) + folded}.{tail}'] = value
        elif part == 'head':
            stock[key] = value
        else:
            dropped.append(key)
    return stock, dropped


def centred_logit_offsets(state_dict: Dict[str, torch.Tensor]) -> torch.Tensor:
    """Per keypoint, minus its average logit over the training data: ``-(W E[h] + b)``.

    ``h`` is the ReLU of the last batch norm before the final layer; with BN's running
    statistics its input is, over the training data, of mean ``running_mean`` and variance
    ``running_var``, so BN's output has mean ``beta`` and std ``|gamma|``; taken as Gaussian,
    ``E[relu] = beta * Phi(beta / |gamma|) + |gamma| * phi(beta / |gamma|)``.
    """
    weight = state_dict['head.final_layer.weight']
    bias = state_dict.get('head.final_layer.bias', torch.zeros(weight.shape[0]))
    if weight.shape[2:] != (1, 1):
        raise ExportError('logit_offset="auto" needs a 1x1 final layer; give a number')
    norm = _last_batch_norm(state_dict)
    beta = state_dict[f'{norm}.bias'].double()
    gamma = state_dict[f'{norm}.weight'].double().abs().clamp_min(1e-12)
    ratio = beta / gamma
    phi = torch.exp(-0.5 * ratio**2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + torch.erf(ratio / math.sqrt(2)))
    mean_activation = beta * cdf + gamma * phi
    mean_logit = weight[:, :, 0, 0].double() @ mean_activation + bias.double()
    return (-mean_logit).to(weight.dtype)


def _last_batch_norm(state_dict) -> str:
    """The key prefix of the batch norm that feeds the final layer (through a ReLU)."""
    for group in ('head.conv_layers', 'head.deconv_layers'):
        norms = sorted({int(k.split('.')[2]) for k in state_dict
                        if k.startswith(group + '.') and k.endswith('.running_var')})
        if norms:
            return f'{group}.{norms[-1]}'
    raise ExportError('logit_offset="auto" needs a batch norm before the final layer; give a '
                      'number')


def to_plain(value):
    """numpy arrays and scalars as lists and Python numbers, so that the checkpoint loads with
    ``torch.load(weights_only=True)`` and no registered globals."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def stock_test_pipeline(pipeline: List[dict]) -> Tuple[List[dict], str]:
    """MMPose's inference pipeline with the source pipeline's input size and crop padding, and a
    note on how the crop relates to the source's."""
    input_size, padding, note = None, 1.25, 'GetBBoxCenterScale as in the source config'
    for step in pipeline:
        if step['type'] == 'TopdownAffine':
            input_size = step['input_size']
        elif step['type'] == 'GetBBoxCenterScale':
            padding = step.get('padding', 1.25)
        elif step['type'] == 'GetSquareCropCenterScale':
            padding = step.get('padding', 1.5)
            note = (f'the source crops a square {padding}x the box kept inside the image '
                    '(GetSquareCropCenterScale); MMPose pads the box as much but lets the crop '
                    'leave the image')
        elif step['type'] == 'GetWholeImageCenterScale':
            padding = 1.
            note = 'the source crops the whole image: give the whole image as the box'
    if input_size is None:
        raise ExportError('the test pipeline has no TopdownAffine: cannot tell the input size')
    return [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale', padding=padding),
        dict(type='TopdownAffine', input_size=list(input_size)),
        dict(type='PackPoseInputs'),
    ], note


def export_stock_model(cfg: Config,
                       checkpoint: dict,
                       logit_offset: Union[str, float] = 'auto',
                       keep_flip_test: bool = False,
                       dataset_meta: Optional[dict] = None) -> Tuple[Config, dict, dict]:
    """The exported config and checkpoint, and a report of what was done.

    Args:
        cfg (Config): the plugin config the checkpoint was trained with.
        checkpoint (dict): the loaded checkpoint (``state_dict``, ``meta``, ...).
        logit_offset: ``'auto'`` (centre each KL keypoint's logits, see the module), or a number
            added to every logit (0: the logits as trained). MSE heads are never shifted.
        keep_flip_test (bool): keep a KL model's flip test (see the module).
        dataset_meta (dict, optional): keypoint metainfo when the checkpoint has none.

    Returns:
        tuple: (config, checkpoint dict, report dict).
    """
    model_cfg, folded = stock_model_config(cfg.model, keep_flip_test)
    state_dict = checkpoint.get('state_dict', checkpoint)
    stock_state, dropped = stock_state_dict(state_dict, folded)
    offsets = None
    if cfg.model.head['type'] in KL_HEADS:
        offsets = centred_logit_offsets(stock_state) if logit_offset == 'auto' else (
            torch.full((model_cfg['head']['out_channels'], ), float(logit_offset)))
        stock_state['head.final_layer.bias'] = stock_state['head.final_layer.bias'] + offsets

    meta = dict(checkpoint.get('meta') or {})
    dataset_meta = meta.get('dataset_meta') or dataset_meta
    if not dataset_meta:
        raise ExportError('the checkpoint has no meta.dataset_meta: give the dataset metainfo')
    dataset_meta = to_plain(dataset_meta)
    num_keypoints = model_cfg['head']['out_channels']
    dataset_type, metainfo_file = STOCK_DATASETS.get(num_keypoints, ('CocoDataset', None))
    source_pipeline = cfg.get('test_dataloader', {}).get('dataset', {}).get('pipeline')
    if not source_pipeline:
        raise ExportError('the config has no test_dataloader.dataset.pipeline to take the input '
                          'size and crop from')
    test_pipeline, crop_note = stock_test_pipeline(source_pipeline)
    dataset = dict(type=dataset_type, data_mode='topdown', pipeline=test_pipeline)
    if metainfo_file:
        dataset['metainfo'] = dict(from_file=metainfo_file)
    config = Config(dict(
        default_scope='mmpose',
        data_mode='topdown',
        dataset_type=dataset_type,
        model=model_cfg,
        test_dataloader=dict(batch_size=32, num_workers=2, drop_last=False,
                             sampler=dict(type='DefaultSampler', shuffle=False),
                             dataset=dataset),
        visualizer=dict(type='PoseLocalVisualizer',
                        vis_backends=[dict(type='LocalVisBackend')], name='visualizer'),
    ))
    report = dict(
        estimator=cfg.model['type'], dropped=dropped, folded_neck_layers=folded,
        logit_offsets=None if offsets is None else offsets.tolist(), crop=crop_note,
        flip_test=model_cfg['test_cfg'].get('flip_test', False))
    exported = dict(
        meta=dict(dataset_meta=dataset_meta,
                  exported_from=dict(estimator=cfg.model['type'],
                                     logit_offsets=report['logit_offsets'])),
        state_dict=stock_state)
    return config, exported, report


def write_export(config: Config, exported: dict, out_dir: str, name: str,
                 header: str = '') -> Tuple[str, str]:
    """Write ``<name>.py`` and ``<name>-<sha256[:8]>_<date>.pth`` (MMPose's published-model
    naming) into ``out_dir``, each atomically; returns their paths."""
    config_path = osp.join(out_dir, f'{name}.py')
    with atomic_output(config_path) as tmp:
        with open(tmp, 'w') as f:
            f.write(header + config.pretty_text + '\n')
    buffer = io.BytesIO()
    torch.save(exported, buffer)
    data = buffer.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    checkpoint_path = osp.join(out_dir, f'{name}-{sha[:8]}_{date.today():%Y%m%d}.pth')
    with atomic_output(checkpoint_path) as tmp:
        with open(tmp, 'wb') as f:
            f.write(data)
    return config_path, checkpoint_path
