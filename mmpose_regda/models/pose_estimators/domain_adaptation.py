import copy
import math
import warnings
from typing import Dict, List, Optional, Tuple

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import Sequential
from mmengine.optim import OptimWrapperDict
from torch import Tensor

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.utils.typing import ConfigType, OptConfigType, OptMultiConfig, SampleList
from ..utils import scale_gradient, unwrap, unwrapped_children
from .teacher import MeanTeacherMixin

#: Key prefix of the head's deconvolutions in checkpoints (the plain TopdownPoseEstimator's).
HEAD_DECONV_PREFIX = 'head.deconv_layers.'
#: The modules of psi, in checkpoints of any top-down model.
PSI_PREFIXES = ('backbone.', 'neck.', HEAD_DECONV_PREFIX)


class DomainAdaptationEstimator(MeanTeacherMixin, TopdownPoseEstimator):
    """What every adaptation method of the plugin shares: a top-down pose estimator whose
    ``train_step`` takes ``dict(source=..., target=...)`` and trains its parts with one optimizer
    each (``PartOptimWrapperConstructor`` reads :meth:`optim_parts`).

    The paper's split of a top-down heatmap model: the feature generator psi = ``backbone`` +
    ``neck`` (any neck, or none) + the head's deconvolutions, and the regressor f = the head's
    final convolutions (``conv_layers`` and ``final_layer``). A stock ``HeatmapHead`` config
    turned into a ``KLHeatmapHead`` keeps its deconvolutions: this model moves them into psi
    (``deconv_layers``, trained with psi, shared by every head) and keeps checkpoints in the
    plain ``TopdownPoseEstimator``'s keys (``head.deconv_layers.*``), so a source-only checkpoint
    loads into any method key for key, and an adapted model exports and predicts like a plain
    one. Inference runs psi and f, as ``TopdownPoseEstimator`` does.

    A method's ``train_step`` opens the iteration, then runs a sequence of updates, each an
    objective with a stable id over some parts, written as mmagic's GANs write theirs::

        optim_wrapper.start_iteration()
        update = optim_wrapper.objective('objective_1', parts=(...), name='Objective 1 (...)')
        with update.optim_context(self):
            losses = ...
        log_vars = self.update_parts(update, losses)   # parse_losses, then update.update_params

    Every pass calls the parts themselves (``self.head(feats)``, not ``self.head.forward``), so
    that under ``MMSeparateDistributedDataParallel`` each goes through its part's DDP forward and
    its backward all-reduces that part's gradients; a part with frozen parameters is run through
    ``frozen``.

    Args:
        backbone, neck, head: as ``TopdownPoseEstimator``; ``head`` is f, a head with the KL
            interface (``KLHeatmapHead``), with or without deconvolutions.
        trade_off (float): eta, the weight of the method's adaptation losses (finite, >= 0).
        adaptation_grad_scale (float): the factor on the gradient the adaptation part sends
            into psi (:meth:`scale_adaptation_gradient`); ``AdaptationScheduleHook`` warms it up
            (RegDA's f', DANN's reversal coefficient, DAN's MMD).
        adv_grad_scale (float, optional): deprecated name of ``adaptation_grad_scale``.
        adaptation_enabled (bool): False trains the source objective only;
            ``AdaptationScheduleHook`` turns it on after its warm-up.
        psi_checkpoint (str, optional): a stage-1 (source-only) checkpoint whose psi (backbone,
            neck, head deconvolutions) initialises psi when the model is initialised, the
            paper's start ("the model is adopted as the feature generator psi"); f and the
            method's own parts keep their initialisation. It replaces psi's own pretrained
            ``init_cfg``. For psi and f both, give the checkpoint as ``load_from`` instead.
        mean_teacher (dict, optional): mean-teacher consistency on the target
            (``MeanTeacherConsistency`` settings; ``sigma`` defaults to the head's codec's), for
            the methods that support it (``SUPPORTS_MEAN_TEACHER``): a ``teacher`` is kept as
            the EMA of psi and f (see ``MeanTeacherMixin``); ``test_cfg.teacher_predictions``
            adds its keypoints as ``teacher_pred_instances``.
        train_cfg, test_cfg, data_preprocessor, init_cfg, metainfo: as ``TopdownPoseEstimator``.
    """
    #: Whether ``mean_teacher`` can be set: the method adds the consistency to its source
    #: objective (RegDA's Objective 1, the mean teacher's own).
    SUPPORTS_MEAN_TEACHER = False
    #: The parts with their own optimizer, and the submodules of each.
    OPTIM_PARTS = dict(generator=('backbone', 'neck', 'deconv_layers'), head=('head', ))
    #: Whether ``adaptation_grad_scale`` scales a gradient into psi
    #: (``AdaptationScheduleHook``'s warm start); MCD sends psi its full gradient.
    SCALES_ADAPTATION_GRADIENT = True

    def __init__(self,
                 backbone: ConfigType,
                 neck: OptConfigType = None,
                 head: OptConfigType = None,
                 trade_off: float = 1.,
                 adaptation_grad_scale: float = 1.,
                 adaptation_enabled: bool = True,
                 psi_checkpoint: Optional[str] = None,
                 mean_teacher: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 metainfo: Optional[dict] = None,
                 adv_grad_scale: Optional[float] = None):
        if adv_grad_scale is not None:
            warnings.warn('model.adv_grad_scale is deprecated: it is model.adaptation_grad_scale '
                          '(it scales the adaptation gradient of every method)',
                          DeprecationWarning, stacklevel=2)
            adaptation_grad_scale = adv_grad_scale
        if head is None:
            raise ValueError(f'{type(self).__name__} needs a `head` (the regressor f)')
        if psi_checkpoint is not None:
            # psi is overwritten by the checkpoint: no download or load of its own pretraining
            backbone, neck = (_without_pretrained_init(cfg) for cfg in (backbone, neck))
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            metainfo=metainfo)
        require_kl_head(self.head, f'{type(self).__name__}.head')
        self.trade_off = check_weight('model.trade_off', trade_off)
        self.adaptation_grad_scale = adaptation_grad_scale
        self.adaptation_enabled = adaptation_enabled
        self.psi_checkpoint = psi_checkpoint
        self.deconv_layers = self._take_head_deconvs()
        self.register_load_state_dict_pre_hook(_head_deconv_keys_to_psi)
        self.build_teacher(mean_teacher)  # after psi took the deconvolutions: it mirrors them

    @property
    def adv_grad_scale(self) -> float:
        """Deprecated name of ``adaptation_grad_scale``."""
        warnings.warn('adv_grad_scale is deprecated: use adaptation_grad_scale',
                      DeprecationWarning, stacklevel=2)
        return self.adaptation_grad_scale

    @adv_grad_scale.setter
    def adv_grad_scale(self, value: float) -> None:
        warnings.warn('adv_grad_scale is deprecated: use adaptation_grad_scale',
                      DeprecationWarning, stacklevel=2)
        self.adaptation_grad_scale = value

    def _take_head_deconvs(self) -> Optional[nn.Module]:
        """Move the head's deconvolutions (if any) into psi; the head keeps f's layers."""
        deconvs = self.head.deconv_layers
        if isinstance(deconvs, nn.Identity):
            return None
        self.head.deconv_layers = nn.Identity()
        # the head's initialisation (normal std 0.001, BN 1) goes with them
        return Sequential(*deconvs, init_cfg=copy.deepcopy(self.head.init_cfg))

    def regressor_config(self, head: ConfigType) -> dict:
        """The config of another regressor like f (RegDA's f', MCD's f2) from ``head``'s: the
        head without the deconvolutions psi took over, reading psi's features."""
        head = copy.deepcopy(dict(head))
        if self.deconv_layers is not None:
            channels = [m.out_channels for m in self.deconv_layers.modules()
                        if isinstance(m, nn.ConvTranspose2d)][-1]
            head.update(in_channels=channels, deconv_out_channels=None,
                        deconv_kernel_sizes=None)
        return head

    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """psi: backbone, neck, and the head's deconvolutions if it had any."""
        feats = super().extract_feat(inputs)
        if self.deconv_layers is None:
            return feats
        return (self.deconv_layers(feats[-1]), )

    def init_weights(self) -> None:
        """Initialise every part, then psi from ``psi_checkpoint`` if one is set."""
        super().init_weights()
        if self.psi_checkpoint is not None:
            self.load_psi(self.psi_checkpoint)

    def load_psi(self, checkpoint: str) -> None:
        """Load psi's weights (``backbone.``, ``neck.``, ``head.deconv_layers.`` keys) from a
        checkpoint of a top-down model; every psi weight of this model must be there."""
        from mmengine.runner import CheckpointLoader
        try:
            loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
        except Exception as e:  # names the option: a missing or unreadable file
            raise type(e)(f'model.psi_checkpoint={checkpoint!r} cannot be read: {e}') from e
        loaded = loaded.get('state_dict', loaded)
        loaded = {k[len('module.'):] if k.startswith('module.') else k: v
                  for k, v in loaded.items()}
        own = {k: v for k, v in self.state_dict().items() if k.startswith(PSI_PREFIXES)}
        missing = sorted(set(own) - set(loaded))
        wrong = [f'{k}: checkpoint {tuple(loaded[k].shape)}, model {tuple(v.shape)}'
                 for k, v in own.items() if k in loaded and loaded[k].shape != v.shape]
        if missing or wrong:
            problems = []
            if missing:
                problems.append(f'{len(missing)} weights missing ({", ".join(missing[:4])}'
                                f'{", ..." if len(missing) > 4 else ""})')
            if wrong:
                problems.append(f'{len(wrong)} of another shape ({"; ".join(wrong[:3])})')
            raise ValueError(
                f'model.psi_checkpoint={checkpoint!r} does not hold this model\'s psi: '
                f'{" and ".join(problems)}. Give the final checkpoint of the source-only stage '
                'of this architecture.')
        self.load_state_dict({k: loaded[k] for k in own}, strict=False)
        print_log(f'psi ({len(own)} tensors of backbone, neck, head deconvolutions) initialised '
                  f'from {checkpoint}; f and the other heads keep their initialisation',
                  logger='current')

    def optim_parts(self) -> Dict[str, List[str]]:
        """Part name -> the submodules it optimises, for ``PartOptimWrapperConstructor``; a part
        without trainable parameters (DAN's MMD) is no part.

        Raises:
            ValueError: a trainable parameter that no part, or two parts, would optimise.
        """
        parts, owner = {}, {}
        for part, names in self.OPTIM_PARTS.items():
            modules = [m for m in names if getattr(self, m, None) is not None]
            params = [p for m in modules for p in getattr(self, m).parameters() if p.requires_grad]
            if params:
                parts[part] = modules
            for param in params:
                if owner.setdefault(id(param), part) != part:
                    raise ValueError(f'{type(self).__name__}: a parameter of {modules} is in '
                                     f'parts `{owner[id(param)]}` and `{part}`')
        orphans = [n for n, p in self.named_parameters() if p.requires_grad and id(p) not in owner]
        if orphans:
            raise ValueError(f'{type(self).__name__}: parameters {orphans[:5]} belong to no '
                             f'part of {self.OPTIM_PARTS}, so would never train; freeze them '
                             'or add their module to OPTIM_PARTS')
        return parts

    def split_domains(self, data: dict, optim_wrapper=None) -> Tuple[dict, Tensor]:
        """The preprocessed source batch, and the target images alone: target labels, if the
        dataset has any, never reach a loss. Checks that ``optim_wrapper`` has one optimizer
        per part (what every update of ``train_step`` names)."""
        if optim_wrapper is not None and not isinstance(optim_wrapper, OptimWrapperDict):
            raise TypeError(
                f'{type(self).__name__}.train_step updates its parts '
                f'({", ".join(self.optim_parts())}) with one optimizer each, but got a single '
                f"{type(optim_wrapper).__name__}: set optim_wrapper.constructor="
                "'PartOptimWrapperConstructor' with one entry per part "
                '(docs/adapting_a_stock_config.md)')
        source = self.data_preprocessor(data['source'], True)
        target_inputs = self.data_preprocessor(data['target'], True)['inputs']
        return source, target_inputs

    def update_parts(self, update, losses: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """One objective's update, as mmengine's ``BaseModel.train_step`` writes it: the loss
        terms parsed into one loss (``parse_losses``: the sum of the ``loss*`` terms), which
        ``update`` (a ``PartsUpdate``) minimises over its parts. Returns the log variables of
        the terms, detached (each objective's total is not logged: the terms are)."""
        loss, log_vars = self.parse_losses(losses)
        update.update_params(loss, log_vars)
        return {name: value.detach() for name, value in log_vars.items() if name != 'loss'}

    def source_loss(self, logits: Tensor, data_samples: SampleList, head: nn.Module = None,
                    name: str = 'loss_source', accuracy: bool = True) -> Dict[str, Tensor]:
        """The supervised loss L_T of a regressor (f, or ``head``) on the labeled source:
        ``{name: loss}``, with its training accuracy ``acc_pose`` where ``train_cfg`` computes
        it and ``accuracy`` is set.

        Args:
            logits (Tensor): the regressor's output on the source batch, (B, K, H, W).
            data_samples (list[PoseDataSample]): the source labels.
        """
        train_cfg = self.train_cfg if accuracy else dict(self.train_cfg, compute_acc=False)
        supervised = unwrap(self.head if head is None else head).loss_from_logits(
            logits, data_samples, train_cfg)
        losses = {name: supervised['loss_kpt']}
        if 'acc_pose' in supervised:
            losses['acc_pose'] = supervised['acc_pose']
        return losses

    def scale_adaptation_gradient(self, feats: Tuple[Tensor, ...]) -> Tuple[Tensor, ...]:
        """psi's features as the adaptation part reads them: unchanged forward, their gradient
        into psi scaled by ``adaptation_grad_scale`` backward."""
        return tuple(scale_gradient(feat, self.adaptation_grad_scale) for feat in feats)

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """As ``TopdownPoseEstimator`` (f alone), also inside a DDP wrapper per part; with
        ``test_cfg.teacher_predictions`` the teacher's too (``teacher_pred_instances``)."""
        if self.test_cfg.get('teacher_predictions', False):
            self.require_teacher('test_cfg.teacher_predictions')
            self.add_teacher_predictions(inputs, data_samples)
        with unwrapped_children(self):
            return super().predict(inputs, data_samples)

    def state_dict(self, *args, **kwargs):
        """The plain model's keys also inside a DDP wrapper per part (which would add
        ``.module.`` to each): a checkpoint of distributed training loads anywhere."""
        with unwrapped_children(self):
            state = super().state_dict(*args, **kwargs)
        if self.deconv_layers is None:
            return state
        prefix = kwargs.get('prefix', '')
        moved = f'{prefix}deconv_layers.'
        return type(state)(
            (f'{prefix}{HEAD_DECONV_PREFIX}{k[len(moved):]}' if k.startswith(moved) else k, v)
            for k, v in state.items())

    def load_state_dict(self, state_dict, *args, **kwargs):
        with unwrapped_children(self):
            return super().load_state_dict(state_dict, *args, **kwargs)


def _head_deconv_keys_to_psi(module, state_dict, prefix, *args) -> None:
    """Load-time counterpart of ``state_dict``: the plain model's ``head.deconv_layers.*`` keys
    go to psi's ``deconv_layers`` (mmengine's loader and ``load_state_dict`` both run it)."""
    if getattr(module, 'deconv_layers', None) is None:
        return
    for key in [k for k in state_dict if k.startswith(prefix + HEAD_DECONV_PREFIX)]:
        state_dict[prefix + 'deconv_layers.' + key[len(prefix + HEAD_DECONV_PREFIX):]] = \
            state_dict.pop(key)


def _without_pretrained_init(cfg: OptConfigType) -> OptConfigType:
    if cfg is None or not isinstance(cfg.get('init_cfg'), dict):
        return cfg
    if cfg['init_cfg'].get('type') != 'Pretrained':
        return cfg
    return dict(cfg, init_cfg=None)


def require_kl_head(head: nn.Module, where: str) -> None:
    """Adaptation models train f (and f') with L_T on logits: the head must have the KL
    interface (``loss_from_logits``, decoding of the spatial softmax)."""
    if not callable(getattr(head, 'loss_from_logits', None)):
        raise TypeError(
            f'{where} is a {type(head).__name__}, which has no KL interface (loss_from_logits, '
            'decoding of the spatial softmax of its logits): the adaptation estimators train '
            "their regressors with L_T. Set head.type='KLHeatmapHead' and "
            "head.loss=dict(type='SpatialKLLoss', use_target_weight=True); it takes "
            "HeatmapHead's arguments and defaults, so the rest of the head config stays.")


def check_weight(name: str, value: float) -> float:
    """A loss weight from the config: a finite number >= 0 (a negative one would maximise the
    loss it weights, NaN would poison every update)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f'{name}={value!r}: expected a number >= 0') from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f'{name}={value!r}: expected a finite number >= 0 (a loss weight; a '
                         'negative one would maximise its loss, a non-finite one poisons '
                         'every update)')
    return number
