"""Config pieces that turn a stock MMPose top-down heatmap config into a domain-adaptation
config, shipped with the package so that a config anywhere can use them.

A config inherits the stock config as its ``_base_`` and assigns these pieces to the settings
they replace, each piece a plain dict or list (``docs/adapting_a_stock_config.md``)::

    _base_ = ['mmpose::hand_2d_keypoint/topdown_heatmap/rhd2d/'
              'td-hm_res50_8xb64-210e_rhd2d-256x256.py']
    from mmpose_regda.configs import adaptation

    method = 'RegDA'  # or 'DD', 'DANN', 'DAN', 'MCD', 'MeanTeacher', 'RegDA+MeanTeacher'
    custom_imports = adaptation.custom_imports(_base_)
    model = adaptation.model(_base_.model, method, psi_checkpoint='work_dirs/kl/epoch_210.pth')
    optim_wrapper = adaptation.optim_wrapper(method)
    param_scheduler = adaptation.param_scheduler()
    custom_hooks = adaptation.custom_hooks(method)
    default_hooks = adaptation.default_hooks
    model_wrapper_cfg = adaptation.model_wrapper_cfg
    train_cfg = dict(max_epochs=30)
    train_dataloader = adaptation.train_dataloader(source, target, batch_size=32, method=method)

Nothing here clashes with a stock base: the pieces are values the config assigns, not bases
(mmengine refuses two bases defining one key), and the ones that replace a stock setting carry
``_delete_=True``. The values are the reference implementation's (Transfer-Learning-Library),
which the paper's tables used; ``docs/configs.md`` gives the reasons.
"""
import copy
from typing import Dict, List, Optional, Sequence

#: Every method the pieces assemble: the estimator and its arguments, the parts that get an
#: optimizer (all but ``generator`` at ``head_lr_mult`` x the generator's learning rate), and the
#: warm start of the gradient its adaptation part sends into psi (None: not scaled).
METHODS = {
    'RegDA': dict(model=dict(type='RegDAPoseEstimator'),
                  parts=('generator', 'head', 'adv_head'),
                  grad_scale=dict(lo=0., hi=0.1, alpha=1., max_iters=1000)),
    'DD': dict(model=dict(type='RegDAPoseEstimator', adv_head_objective='max L_T',
                          generator_objective='min L_T'),
               parts=('generator', 'head', 'adv_head'),
               grad_scale=dict(lo=0., hi=0.1, alpha=1., max_iters=1000)),
    # the reference library's discriminator (width 1024) behind gradient reversal, its
    # coefficient warmed up from 0 to 1
    'DANN': dict(model=dict(type='FeatureAlignmentPoseEstimator',
                            alignment=dict(type='DomainAdversarialLoss', hidden_channels=1024)),
                 parts=('generator', 'head', 'alignment'),
                 grad_scale=dict(lo=0., hi=1., alpha=1., max_iters=1000)),
    'DAN': dict(model=dict(type='FeatureAlignmentPoseEstimator',
                           alignment=dict(type='MultiKernelMMDLoss')),
                parts=('generator', 'head'), grad_scale=None),
    'MCD': dict(model=dict(type='MCDPoseEstimator'), parts=('generator', 'head', 'adv_head'),
                grad_scale=None),
    # UDAPE's mean teacher (its settings: MeanTeacherConsistency's defaults), alone and beside
    # RegDA's game (the consistency in Objective 1); the target needs two views of each image
    'MeanTeacher': dict(model=dict(type='MeanTeacherPoseEstimator', mean_teacher=dict()),
                        parts=('generator', 'head'), grad_scale=None, views=True),
    'RegDA+MeanTeacher': dict(model=dict(type='RegDAPoseEstimator', mean_teacher=dict()),
                              parts=('generator', 'head', 'adv_head'),
                              grad_scale=dict(lo=0., hi=0.1, alpha=1., max_iters=1000),
                              views=True),
}
#: Steps of a target pipeline that the mean teacher's views replace: each view draws its own
#: affine of the box, so the stock random box moves and flips go, as do the crop and what
#: follows it (photometric steps per view, encoding, packing).
BOX_AUGMENTATIONS = ('RandomFlip', 'RandomHalfBody', 'RandomBBoxTransform',
                     'RandomRotateResizedCrop')



def custom_imports(base=None) -> dict:
    """The stock config's ``custom_imports`` (ViTPose's name an optimizer constructor) and the
    plugin, which registers itself in every process that reads the config, the dumped one too.

    Args:
        base: the stock config (``_base_``), whose imports are kept.
    """
    inherited = dict((base or {}).get('custom_imports') or {})
    imports = [i for i in inherited.get('imports', []) if i != 'mmpose_regda']
    return dict(imports=[*imports, 'mmpose_regda'], allow_failed_imports=False)


#: One DDP module per part: every update passes through several parts, and each pass must go
#: through its part's DDP forward for the gradients to be all-reduced (mmagic's GANs do the same).
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel')

#: Added to the stock default hooks: the run stops on a NaN or infinite loss or weights, naming
#: them, and saves nothing from the diverged step; convolutions run channels-last (faster on
#: CPUs and GPUs, ``enable=False`` turns it off); checkpoints are not chosen by their score on
#: the validation set, which in an adaptation config is the target's test set (report the final
#: model).
default_hooks = dict(
    non_finite_loss=dict(type='NonFiniteLossHook'),
    channels_last=dict(type='ChannelsLastHook'),
    checkpoint=dict(save_best=None, rule=None))

#: The spatial-KL loss of the plugin's heads (L_T, Eq. 8 of the paper).
kl_loss = dict(type='SpatialKLLoss', use_target_weight=True)


def method_spec(method: str) -> dict:
    if method not in METHODS:
        raise ValueError(f'adaptation method {method!r} is not one of {", ".join(METHODS)}')
    return copy.deepcopy(METHODS[method])


def _merged(base: dict, options: dict) -> dict:
    """``options`` over ``base``, one level of dicts deep (``head=dict(out_channels=21)``)."""
    for key, value in options.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = dict(base[key], **value)
        else:
            base[key] = value
    return base


def kl_model(stock_model: dict, **options) -> dict:
    """The stock model with its head trained with L_T: ``KLHeatmapHead`` (``HeatmapHead``'s
    arguments and defaults) and ``SpatialKLLoss``; everything else as it is, but ``options``
    (e.g. ``head=dict(out_channels=21)`` for a body config on hands). The source-only stage of
    an adaptation (stage 1)."""
    model = _merged(copy.deepcopy(dict(stock_model)), options)
    if 'head' not in model:
        raise ValueError('the stock model has no `head`: a top-down heatmap model is expected')
    head = dict(model['head'])
    if head.get('type') not in ('HeatmapHead', 'KLHeatmapHead'):
        raise ValueError(f'model.head.type={head.get("type")!r}: the plugin adapts top-down '
                         'heatmap models (HeatmapHead); other heads have no KL counterpart')
    head.update(type='KLHeatmapHead', loss=dict(kl_loss))
    model['head'] = head
    return model


def model(stock_model: dict, method: str = 'RegDA', psi_checkpoint: Optional[str] = None,
          **options) -> dict:
    """The adaptation estimator of ``method`` around a stock top-down heatmap model.

    The backbone, neck, data preprocessor and test settings stay the stock model's; the head
    becomes a ``KLHeatmapHead`` (:func:`kl_model`), whose deconvolutions (if any) the
    estimator moves into psi. RegDA's ground-false Gaussians take the sigma of the head's
    codec (the paper: 2 on 64x64 heatmaps); DANN's discriminator reads psi's channels.

    Args:
        stock_model (dict): the stock config's ``model`` (``_base_.model``).
        method (str): ``'RegDA'``, ``'DD'``, ``'DANN'``, ``'DAN'``, ``'MCD'``,
            ``'MeanTeacher'`` or ``'RegDA+MeanTeacher'``.
        psi_checkpoint (str, optional): the stage-1 checkpoint psi starts from (the paper's
            start: f and f' fresh). Leave it None and set ``load_from`` to start psi and f.
        **options: more arguments of the estimator (``trade_off``, ``source_disparity_weight``,
            ``ground_false``...), merged over the method's.
    """
    spec = method_spec(method)
    adapted = kl_model(stock_model)
    head = adapted['head']
    adapted.pop('type', None)
    adapted.update(spec['model'])
    if adapted['type'] == 'RegDAPoseEstimator':
        sigma = (head.get('decoder') or {}).get('sigma', 2.)
        adapted['ground_false'] = dict(type='GroundFalseTargetGenerator', sigma=float(sigma))
    if adapted['type'] == 'FeatureAlignmentPoseEstimator' and \
            adapted['alignment']['type'] == 'DomainAdversarialLoss':
        adapted['alignment']['in_channels'] = psi_channels(head)
    adapted['psi_checkpoint'] = psi_checkpoint
    return _merged(adapted, options)


def psi_channels(head: dict) -> int:
    """The channels of psi's features: the head's last deconvolution, else its input."""
    deconvs = head.get('deconv_out_channels', (256, 256, 256))  # HeatmapHead's default
    if deconvs:
        return int(deconvs[-1])
    channels = head['in_channels']
    if isinstance(channels, (list, tuple)):
        raise ValueError(f'model.head.in_channels={channels}: psi must give one feature map '
                         '(a neck such as FeatureMapProcessor(concat=True) joins several)')
    return int(channels)


def optim_wrapper(method: str = 'RegDA', lr: float = 0.01, head_lr_mult: float = 10.,
                  replace: bool = True, **part_options) -> dict:
    """One SGD per part of ``method`` (Nesterov momentum 0.9, weight decay 1e-4; the heads and
    the discriminator at ``head_lr_mult`` x ``lr``, after DANN), as the reference
    implementation. ``part_options`` (``clip_grad``, ``accumulative_counts``...) go to every
    part. ``replace`` adds ``_delete_=True`` so it replaces the stock config's optimizer."""
    sgd = dict(type='SGD', momentum=0.9, nesterov=True, weight_decay=1e-4)
    parts = {part: dict(optimizer=dict(sgd, lr=lr if part == 'generator' else lr * head_lr_mult),
                        **copy.deepcopy(part_options))
             for part in method_spec(method)['parts']}
    cfg = dict(constructor='PartOptimWrapperConstructor', **parts)
    return dict(_delete_=True, **cfg) if replace else cfg


def param_scheduler(gamma: float = 1e-4, power: float = 0.75) -> List[dict]:
    """The reference's learning-rate decay of every part, each iteration:
    ``lr * (1 + gamma * i) ** -power``. ``end`` is set: mmengine would otherwise fix it to the
    run's length and store it in checkpoints, and a run resumed for longer would stop decaying."""
    return [dict(type='InverseDecayLR', gamma=gamma, power=power, begin=0, end=10**9,
                 by_epoch=False)]


def custom_hooks(method: str = 'RegDA', warmup_iters: int = 0,
                 extra: Sequence[dict] = (), warm_start_iters: Optional[int] = None) -> List[dict]:
    """MMPose's ``SyncBuffersHook``, the method's ``AdaptationScheduleHook`` (its warm start of
    the adaptation gradient into psi, an optional source-only warm-up, and the check of the
    assembly and of the keypoints before any weight is loaded), and ``extra`` hooks.
    ``warm_start_iters`` replaces the warm start's time constant (the reference's 1000
    iterations) for a method that has one, e.g. to keep its proportion in a shorter run."""
    grad_scale = method_spec(method)['grad_scale']
    if grad_scale is not None and warm_start_iters is not None:
        grad_scale['max_iters'] = warm_start_iters
    hook = dict(type='AdaptationScheduleHook', warmup_iters=warmup_iters, grad_scale=grad_scale)
    return [dict(type='SyncBuffersHook'), hook, *copy.deepcopy(list(extra))]


def mean_teacher_target(target: dict, views: Optional[dict] = None) -> dict:
    """``target``'s dataset with the mean teacher's views: its pipeline up to the crop, without
    random box moves or flips, then ``MeanTeacherViews`` (at the crop's input size; ``views``:
    its other arguments, UDAPE's hand augmentation by default) and ``PackMeanTeacherInputs``."""
    target = copy.deepcopy(dict(target))
    pipeline = list(target.get('pipeline') or [])
    crops = [i for i, step in enumerate(pipeline) if step.get('type') == 'TopdownAffine']
    if not crops:
        raise ValueError('mean_teacher_target: the target pipeline has no TopdownAffine, so '
                         f'neither the crop nor its input size is known: {pipeline}')
    crop = pipeline[crops[0]]
    steps = [step for step in pipeline[:crops[0]] if step.get('type') not in BOX_AUGMENTATIONS]
    steps += [dict(type='MeanTeacherViews', input_size=tuple(crop['input_size']),
                   **copy.deepcopy(views or {})),
              dict(type='PackMeanTeacherInputs')]
    target['pipeline'] = steps
    return target


def train_dataloader(source: dict, target: dict, batch_size: int = 32, num_workers: int = 2,
                     length: Optional[int] = None, method: Optional[str] = None,
                     **options) -> dict:
    """Batches of ``batch_size`` labeled source and ``batch_size`` unlabeled target samples
    (``DomainAdaptationDataset``; its ``length`` sets the epoch, by default the larger domain),
    replacing the stock training data. With ``method`` a mean teacher (``'MeanTeacher'``,
    ``'RegDA+MeanTeacher'``) the target gets its two views (:func:`mean_teacher_target`).
    ``options`` go to the dataloader."""
    if method is not None and method_spec(method).get('views'):
        target = mean_teacher_target(target)
    dataset: Dict[str, object] = dict(type='DomainAdaptationDataset', source=source,
                                      target=target)
    if length is not None:
        dataset['length'] = length
    return dict(_delete_=True, batch_size=batch_size, num_workers=num_workers,
                persistent_workers=num_workers > 0,
                sampler=dict(type='DomainAdaptationSampler', shuffle=True),
                dataset=dataset, **options)
