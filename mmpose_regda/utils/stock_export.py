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
keypoint invalid where its peak is <= 0, which logits can be. The KL loss fixes them only up to a
constant per keypoint and image (its gradient sums to zero over each map): nothing in training
keeps a map's level, which drifts from image to image and is often below zero. So the export
adds a constant per keypoint to the final layer's bias, which changes no softmax. By default
(``'auto'``) it is measured: minus the lowest logit the model gives the keypoint on calibration
images (the crops the export is checked on), plus the spread of its logits there, so that every
value of those maps is positive with room to spare and a peak elsewhere is negative only for an
image whose whole map lies a spread below anything seen.
Without images it falls back to an estimate of minus the keypoint's average logit over the
training data, from the statistics of the last batch norm before the final layer. That estimate
is what left briefly trained models' keypoints invalid: a peak is above its own map's average,
not necessarily above the training data's; maps sit lower on images of another domain than the
one the batch-norm statistics were gathered on (the target, for an adapted model), the Gaussian
approximation of the features overestimates their mean, and a briefly trained model's peaks
stand little above their map's level. So the tool warns when it could not check the export. The
scores then differ: the plugin reports the peak probability of the softmax, the export the peak
logit plus the offset. Decoders that transform the values first (``unbiased=True`` DARK
refinement, a blur) would not give the same coordinates: the export refuses them for KL heads.

Flip test. ``KLHeatmapHead`` averages the two passes' probabilities, ``HeatmapHead`` its
outputs, which are then logits: a geometric mean of the distributions, whose peak can be
elsewhere where two peaks compete. So an exported KL model tests without flip by default, and
then predicts what the plugin model predicts without flip; ``keep_flip_test`` keeps MMPose's
flip test (averaged logits) instead. MSE heads (``HeatmapHead`` already) keep theirs.

Verification. :func:`check_export` runs the plugin model and the exported model on the same
crops of a few images and compares the decoded keypoints in image pixels (the plugin model with
the export's flip setting), counting the keypoints MMPose marks invalid; the tool warns with the
numbers when a keypoint is more than a pixel off or invalid.
"""
import copy
import glob
import hashlib
import inspect
import io
import math
import os.path as osp
from collections import OrderedDict
from datetime import date
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config

from .atomic_output import atomic_output

#: how many images of the config's data the export is checked on when none are given
NUM_CHECK_IMAGES = 8
#: the largest difference, in image pixels, between the two models' keypoints that passes
TOLERANCE_PX = 1.

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


class CheckpointRefused(ExportError):
    """A checkpoint that cannot be read, or that does not fit the config's model; the message
    names the file."""


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
    # HeatmapHead reads the kernel sizes only with channels: a head without deconvolutions
    # (``deconv_out_channels=None``) keeps the default (4, 4, 4), which must not be folded
    for channels, kernels in (('deconv_out_channels', 'deconv_kernel_sizes'),
                              ('conv_out_channels', 'conv_kernel_sizes')):
        if not head.get(channels):
            head[channels], head[kernels] = None, None
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


#: Where a mean teacher's weights are in a checkpoint (``MeanTeacherMixin``).
TEACHER_PREFIX = 'teacher.module.'


def teacher_weights(checkpoint: dict) -> dict:
    """The checkpoint with its mean teacher's psi and f in the student's place, so that the
    export (and its check against the plugin model) is the teacher's. The teacher's keys stay
    (the plugin model that checks the export loads them); its deconvolutions go under the
    plain model's ``head.deconv_layers.*``, as the student's are saved."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    teacher = {k[len(TEACHER_PREFIX):]: v for k, v in state_dict.items()
               if k.startswith(TEACHER_PREFIX)}
    if not teacher:
        raise ExportError('--weights teacher: the checkpoint has no mean teacher (no '
                          f'{TEACHER_PREFIX}* weights); export the student, or a checkpoint of '
                          'a run with model.mean_teacher')
    replaced = OrderedDict(state_dict)
    for key, value in teacher.items():
        if key.startswith('deconv_layers.'):
            key = 'head.' + key
        if key not in replaced:
            raise ExportError(f'--weights teacher: the teacher\'s {key} has no counterpart in '
                              'the student')
        replaced[key] = value
    return dict(checkpoint, state_dict=replaced)


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
        raise ExportError('--logit-offset auto without check images estimates the offsets from '
                          'the batch norm before a 1x1 final layer, and head.final_layer has '
                          f'{tuple(weight.shape[2:])} kernels: give images (--check-images) or '
                          'a number (--logit-offset)')
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
    raise ExportError('--logit-offset auto without check images estimates the offsets from '
                      'the batch norm before the final layer, and the head has none (no '
                      'head.deconv_layers or head.conv_layers): give images (--check-images) or a '
                      'number (--logit-offset)')


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


DEFAULT_CROP_NOTE = 'GetBBoxCenterScale as in the source config'


def stock_test_pipeline(pipeline: List[dict]) -> Tuple[List[dict], str]:
    """MMPose's inference pipeline with the source pipeline's input size and crop padding, and a
    note on how the crop relates to the source's."""
    affine, padding, note = None, 1.25, DEFAULT_CROP_NOTE
    for step in pipeline:
        if step['type'] == 'TopdownAffine':
            # its options too: UDP (ViTPose's configs) changes the warp and so the decoding
            affine = {**step, 'input_size': list(step['input_size'])}
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
    if affine is None:
        raise ExportError('the test pipeline has no TopdownAffine: cannot tell the input size')
    return [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale', padding=padding),
        affine,
        dict(type='PackPoseInputs'),
    ], note


def export_stock_model(cfg: Config,
                       checkpoint: dict,
                       logit_offset: Union[str, float, Sequence[float]] = 'auto',
                       keep_flip_test: bool = False,
                       dataset_meta: Optional[dict] = None) -> Tuple[Config, dict, dict]:
    """The exported config and checkpoint, and a report of what was done.

    Args:
        cfg (Config): the plugin config the checkpoint was trained with.
        checkpoint (dict): the loaded checkpoint (``state_dict``, ``meta``, ...).
        logit_offset: what KL heads add to each keypoint's logits: ``'auto'`` (an estimate
            of minus its average over the training data, see the module), a number for all
            keypoints (0: the logits as trained) or one per keypoint
            (:func:`calibrated_logit_offsets`). MSE heads are never shifted.
        keep_flip_test (bool): keep a KL model's flip test (see the module).
        dataset_meta (dict, optional): the keypoint metainfo (:func:`load_dataset_meta`);
            by default the checkpoint's ``meta.dataset_meta``.

    Returns:
        tuple: (config, checkpoint dict, report dict).
    """
    model_cfg, folded = stock_model_config(cfg.model, keep_flip_test)
    state_dict = checkpoint.get('state_dict', checkpoint)
    stock_state, dropped = stock_state_dict(state_dict, folded)
    num_keypoints = model_cfg['head']['out_channels']
    offsets = None
    if cfg.model.head['type'] in KL_HEADS:
        if isinstance(logit_offset, str):
            if logit_offset != 'auto':
                raise ExportError(f"logit_offset: expected 'auto' or numbers, got "
                                  f'{logit_offset!r}')
            offsets = centred_logit_offsets(stock_state)
        else:
            offsets = torch.as_tensor(logit_offset, dtype=torch.float32).flatten()
            if offsets.numel() == 1:
                offsets = offsets.expand(num_keypoints).clone()
            if offsets.numel() != num_keypoints:
                raise ExportError(f'logit_offset: {offsets.numel()} offsets for a head of '
                                  f'{num_keypoints} keypoints')
        bias = stock_state.get('head.final_layer.bias')
        if bias is None:
            raise ExportError('the final layer has no bias (head.final_layer.bias) to carry '
                              'the logit offsets')
        stock_state['head.final_layer.bias'] = bias + offsets.to(bias.dtype)

    meta = dict(checkpoint.get('meta') or {})
    if dataset_meta is None:
        dataset_meta = meta.get('dataset_meta')
    if not dataset_meta:
        raise ExportError('the checkpoint has no meta.dataset_meta (the keypoint names, flip '
                          'pairs and skeleton MMPose needs): give it with --dataset-meta, a '
                          "metainfo file (mmpose's configs/_base_/datasets/onehand10k.py) or one "
                          "of the plugin's layouts (hand21, body16)")
    dataset_meta = to_plain(dataset_meta)
    if dataset_meta.get('num_keypoints', num_keypoints) != num_keypoints:
        raise ExportError(f'the dataset metainfo ({dataset_meta.get("dataset_name")!r}) has '
                          f'{dataset_meta["num_keypoints"]} keypoints, the head '
                          f'{num_keypoints} (head.out_channels)')
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


def load_dataset_meta(source: str) -> dict:
    """The keypoint metainfo of ``--dataset-meta``: one of the plugin's layouts by name
    (``hand21``, ``body16``, ``sprite1``) or a metainfo file as MMPose's datasets take it
    (``configs/_base_/datasets/onehand10k.py``: a path, else found in the installed mmpose)."""
    from mmpose_regda.datasets.keypoint_coco_dataset import load_metainfo, metainfo_file
    layout = metainfo_file(source)
    path = layout if osp.isfile(layout) else source
    if not osp.isfile(path):
        # where MMPose's datasets look for a metainfo file they do not find (its package)
        import mmpose
        installed = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', '_base_',
                             'datasets', osp.basename(path))
        path = installed if osp.isfile(installed) else path
    if not path.endswith('.py'):
        raise ExportError(f'--dataset-meta {source}: expected a metainfo file (.py) or one of '
                          f'the plugin\'s layouts ({", ".join(_layouts())})')
    try:
        return to_plain(load_metainfo(dict(from_file=path)))
    except FileNotFoundError:
        raise ExportError(f'--dataset-meta {source}: no such file, in the current directory or '
                          f'in mmpose\'s configs/_base_/datasets, and not one of the plugin\'s '
                          f'layouts ({", ".join(_layouts())})') from None
    except (KeyError, AttributeError) as e:
        raise ExportError(f'--dataset-meta {source}: not a metainfo file (expected a '
                          f'`dataset_info` dict with keypoint_info and skeleton_info: {e})'
                          ) from None


def _layouts() -> List[str]:
    from mmpose_regda.datasets.keypoint_coco_dataset import METAINFO_DIR
    return sorted(osp.splitext(osp.basename(p))[0]
                  for p in glob.glob(osp.join(METAINFO_DIR, '*.py')))


def read_plugin_checkpoint(path: str) -> dict:
    """The checkpoint to export, or an :class:`ExportError` naming the file and why it cannot
    be read (missing, empty, truncated, or refused by weights-only loading because it would run
    code)."""
    from mmpose_regda.apis.checkpoint_checks import CheckpointMismatch, read_checkpoint
    try:
        return read_checkpoint(path)
    except CheckpointMismatch as e:
        raise CheckpointRefused(str(e)) from None


def build_plugin_model(cfg: Config, checkpoint: dict, path: str):
    """The plugin model of ``cfg`` with the checkpoint's weights, in eval mode; an
    :class:`ExportError` naming the differing weights and shapes when the checkpoint was
    trained for another architecture or keypoint count than ``cfg`` describes."""
    from mmengine.registry import init_default_scope

    from mmpose.registry import MODELS
    from mmpose_regda.apis.checkpoint_checks import (CheckpointMismatch, check_weights_fit,
                                                     model_weights)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    model_cfg = copy.deepcopy(cfg.model)
    # the weights come from the checkpoint: no pretrained download or initialisation needed
    model_cfg.get('backbone', {}).pop('init_cfg', None)
    model = MODELS.build(model_cfg)
    try:
        check_weights_fit(model, checkpoint, path)
    except CheckpointMismatch as e:
        raise CheckpointRefused(f'{e} Config given: {cfg.filename or "(not from a file)"}.'
                                ) from None
    model.load_state_dict(model_weights(checkpoint), strict=False)
    model.cfg = cfg
    return model.eval()


def build_stock_model(config: Config, exported: dict):
    """The exported model as stock MMPose builds it (MMPose's modules only), in eval mode."""
    from mmengine.registry import init_default_scope

    from mmpose.registry import MODELS
    init_default_scope('mmpose')
    model = MODELS.build(copy.deepcopy(config.model))
    model.load_state_dict(exported['state_dict'], strict=True)
    model.cfg = config
    model.dataset_meta = exported['meta']['dataset_meta']
    return model.eval()


#: a check image with its box (x1, y1, x2, y2)
CheckItem = Tuple[str, List[float]]


def check_items_from_files(sources: Sequence[str]) -> List[CheckItem]:
    """Images to check an export on: image files (the whole image is the box, as MMPose's
    inferencer without a detector) and COCO files (each annotation's ``bbox``; images relative
    to the file's folder)."""
    import json

    from PIL import Image
    items = []
    for source in sources:
        if not osp.isfile(source):
            raise ExportError(f'--check-images: {source} not found')
        if source.endswith('.json'):
            try:
                with open(source) as f:
                    coco = json.load(f)
                files = {image['id']: image['file_name'] for image in coco['images']}
                folder = osp.dirname(source)
                for ann in coco['annotations']:
                    x, y, w, h = ann['bbox']
                    items.append((osp.join(folder, files[ann['image_id']]),
                                  [x, y, x + w, y + h]))
            except (ValueError, KeyError, TypeError) as e:
                raise ExportError(f'--check-images: {source} is not a COCO file with images and '
                                  f'annotations with a bbox ({type(e).__name__}: {e})') from None
        else:
            try:
                with Image.open(source) as image:
                    width, height = image.size
            except OSError as e:
                raise ExportError(f'--check-images: {source} is neither an image nor a COCO '
                                  f'.json ({e})') from None
            items.append((source, [0., 0., float(width), float(height)]))
    return items


def check_items_from_config(cfg: Config, count: int = NUM_CHECK_IMAGES) -> List[CheckItem]:
    """The first ``count`` instances of the config's test data, else of its training data
    (the source domain of an adaptation config); ``[]`` when neither can be read here."""
    from mmengine.registry import init_default_scope

    from mmpose.registry import DATASETS
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset_cfg = copy.deepcopy((cfg.get(loader) or {}).get('dataset'))
        if not dataset_cfg:
            continue
        if dataset_cfg.get('type') == 'DomainAdaptationDataset':
            dataset_cfg = dataset_cfg['source']
        dataset_cfg['pipeline'] = []
        try:
            dataset = DATASETS.build(dataset_cfg)
        except Exception:  # data not on this machine, or a dataset that needs more set-up
            continue
        items = []
        for index in range(min(count, len(dataset))):
            info = dataset.get_data_info(index)
            if 'img_path' in info and 'bbox' in info and osp.isfile(info['img_path']):
                items.append((info['img_path'], [float(v) for v in np.ravel(info['bbox'])[:4]]))
        if items:
            return items
    return []


def check_batch(cfg: Config, items: Sequence[CheckItem], dataset_meta: dict) -> dict:
    """The crops of ``items`` through ``cfg``'s test pipeline (the plugin config's or the
    exported one's), collated."""
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    data = []
    for image, box in items:
        info = dict(img_path=image, bbox=np.array([box], dtype=np.float32),
                    bbox_score=np.ones(1, dtype=np.float32))
        info.update(dataset_meta)
        data.append(pipeline(info))
    return pseudo_collate(data)


def keypoint_logits(stock_model, batch: dict) -> torch.Tensor:
    """The exported head's output on the batch's crops (one pass, no flip): (N, K, H, W); the
    crops of the exported config's pipeline are those stock MMPose will see."""
    with torch.no_grad():
        inputs = stock_model.data_preprocessor(batch, False)['inputs']
        return stock_model.head.forward(stock_model.extract_feat(inputs))


def calibrated_logit_offsets(logits: torch.Tensor, current: Optional[Sequence[float]] = None
                             ) -> torch.Tensor:
    """Per keypoint, the constant that puts its lowest logit on the calibration crops at the
    spread of its logits there (see the module): ``spread - min``. ``logits`` were computed
    with the offsets ``current`` already added (the offsets returned replace them)."""
    flat = logits.detach().double().transpose(0, 1).flatten(1)  # (K, N*H*W)
    low, high = flat.min(dim=1).values, flat.max(dim=1).values
    offsets = (high - low) - low
    if current is not None:
        offsets = offsets + torch.as_tensor(current, dtype=torch.float64)
    return offsets.float()


def _predict(model, batch: dict, flip_test: bool) -> Tuple[np.ndarray, np.ndarray]:
    model.test_cfg['flip_test'] = flip_test
    with torch.no_grad():
        samples = model.test_step(copy.copy(batch))
    keypoints = np.stack([s.pred_instances.keypoints[0] for s in samples])
    scores = np.stack([s.pred_instances.keypoint_scores[0] for s in samples])
    return keypoints, scores


def check_export(plugin_model, stock_model, batch: dict, items: Sequence[CheckItem],
                 stock_batch: Optional[dict] = None) -> dict:
    """Run both models on the images and compare their keypoints in image pixels.

    ``batch`` holds the crops of the plugin config's test pipeline, ``stock_batch`` those of
    the exported config's (what stock MMPose feeds the export; by default ``batch``): where
    the source crops differently (a square crop kept inside the image), the difference shows.
    The plugin model runs with the export's flip setting (an exported KL model tests without
    flip unless ``keep_flip_test``). Invalid keypoints are those whose peak MMPose's decoding
    finds <= 0 (score <= 0): MMPose puts them nowhere near the plugin's.

    Returns:
        dict: ``images``, ``keypoints`` (compared), ``max_px``, ``median_px``, ``over_px``
        (keypoints more than ``TOLERANCE_PX`` apart), ``invalid`` (keypoints MMPose marks
        invalid), ``worst`` (image, keypoint index, px of the largest difference), ``passed``.
    """
    flip_test = bool(stock_model.test_cfg.get('flip_test', False))
    plugin_flip = plugin_model.test_cfg.get('flip_test', False)
    try:
        plugin_keypoints, _ = _predict(plugin_model, batch, flip_test)
        stock_keypoints, stock_scores = _predict(stock_model, stock_batch or batch, flip_test)
    finally:
        plugin_model.test_cfg['flip_test'] = plugin_flip
    distance = np.linalg.norm(plugin_keypoints - stock_keypoints, axis=-1)  # (N, K)
    image, keypoint = np.unravel_index(np.argmax(distance), distance.shape)
    result = dict(
        images=len(items), keypoints=int(distance.size), flip_test=flip_test,
        max_px=float(distance.max()), median_px=float(np.median(distance)),
        over_px=int((distance > TOLERANCE_PX).sum()), invalid=int((stock_scores <= 0).sum()),
        invalid_keypoints=sorted({int(k) for k in np.nonzero(stock_scores <= 0)[1]}),
        worst=(items[image][0], int(keypoint), float(distance[image, keypoint])))
    result['passed'] = result['over_px'] == 0 and result['invalid'] == 0
    return result


def describe_check(check: dict) -> str:
    """One line of the check's numbers, as the tool prints or warns them."""
    text = (f'{check["keypoints"]} keypoints of {check["images"]} images (flip test '
            f'{"on" if check["flip_test"] else "off"}): max {check["max_px"]:.3g} px, median '
            f'{check["median_px"]:.3g} px from the plugin model\'s; {check["over_px"]} more '
            f'than {TOLERANCE_PX:g} px apart, {check["invalid"]} invalid in MMPose (peak <= 0')
    if check['invalid']:
        text += f', keypoints {", ".join(map(str, check["invalid_keypoints"]))}'
    text += ')'
    if check['over_px']:
        image, keypoint, px = check['worst']
        text += f'; worst: keypoint {keypoint} of {image}, {px:.3g} px'
    return text
