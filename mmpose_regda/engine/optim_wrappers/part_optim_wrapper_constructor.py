"""One optimizer per part of an adaptation model, from an MMPose config."""
import copy
import warnings
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper, DefaultOptimWrapperConstructor
from mmengine.registry import OPTIM_WRAPPERS

from mmpose.registry import OPTIM_WRAPPER_CONSTRUCTORS
from .part_optim_wrapper_dict import PartOptimWrapperDict

#: Keys of ``optim_wrapper`` that are not parts: mmengine's own, and the precision of every
#: part (what MMPose's ``tools/train.py --amp`` writes at the top level).
NON_PART_KEYS = ('constructor', 'paramwise_cfg', 'type', 'dtype', 'loss_scale',
                 'allow_cpu_float16')


def _is_amp(wrapper_type) -> bool:
    """Whether an optim wrapper ``type`` (a registered name or a class) is mixed precision."""
    if isinstance(wrapper_type, str):
        with OPTIM_WRAPPERS.switch_scope_and_registry(None) as registry:
            wrapper_type = registry.get(wrapper_type)
    return isinstance(wrapper_type, type) and issubclass(wrapper_type, AmpOptimWrapper)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class PartOptimWrapperConstructor:
    """Build a :class:`PartOptimWrapperDict`: one ``OptimWrapper`` per part the model declares
    in ``optim_parts()`` (psi = ``generator``, f = ``head``, f' = ``adv_head``, ...)::

        optim_wrapper = dict(
            constructor='PartOptimWrapperConstructor',
            generator=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
            head=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9), clip_grad=...),
            adv_head=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)))

    Each part takes what ``DefaultOptimWrapperConstructor`` takes for a whole model
    (``optimizer``, ``paramwise_cfg``, ``clip_grad``, ``accumulative_counts``, a wrapper
    ``type``); parameter names read as in the model (``backbone.layer1.0.conv1.weight``). A
    top-level ``paramwise_cfg`` applies to the parts without one of their own. A part set to
    None is dropped, so a config inheriting RegDA's schedule can leave out f'. The config's parts
    must be the model's.

    Mixed precision is set for all parts at once, at the top level, with the keys MMPose's
    ``tools/train.py --amp`` writes: ``type='AmpOptimWrapper'``, ``loss_scale`` and ``dtype``
    (``'float16'`` by default, or ``'bfloat16'``); see :class:`PartOptimWrapperDict` for why
    the parts share their loss scales objective by objective. The autocast device is the
    model's.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        cfg = {name: part for name, part in copy.deepcopy(dict(optim_wrapper_cfg)).items()
               if part is not None}
        # float16 on a CPU is refused unless asked for (see _refuse_cpu_float16)
        self.allow_cpu_float16 = bool(cfg.pop('allow_cpu_float16', False))
        self.precision = self._precision(cfg.pop('type', 'OptimWrapper'),
                                         cfg.pop('dtype', None),
                                         cfg.pop('loss_scale', 'dynamic'))
        for name, part in cfg.items():
            if not isinstance(part, dict) or 'optimizer' not in part:
                raise ValueError(f'optim_wrapper.{name} must be a part config with an '
                                 f'`optimizer` (the keys of optim_wrapper besides '
                                 f'{", ".join(NON_PART_KEYS)} are the model\'s parts), got '
                                 f'{part!r}')
            if _is_amp(part.get('type', 'OptimWrapper')):
                raise ValueError(f'optim_wrapper.{name}.type: mixed precision is set for all '
                                 'parts at once, with type=\'AmpOptimWrapper\' (and dtype, '
                                 'loss_scale) at the top level of optim_wrapper')
        counts = {name: part.get('accumulative_counts', 1) for name, part in cfg.items()}
        if len(set(counts.values())) > 1:
            raise ValueError(f'accumulative_counts must be the same for every part (the parts '
                             f'are updated by the same iterations), got {counts}')
        self.accumulative_counts = next(iter(counts.values()), 1)
        self.part_cfgs = cfg
        self.paramwise_cfg = paramwise_cfg

    @staticmethod
    def _precision(wrapper_type, dtype, loss_scale) -> dict:
        """The one place that decides the precision of every part."""
        if not _is_amp(wrapper_type):
            if wrapper_type not in ('OptimWrapper', None) or dtype is not None:
                raise ValueError(f'optim_wrapper.type={wrapper_type!r}, dtype={dtype!r}: the '
                                 'top level takes type \'OptimWrapper\' (full precision) or '
                                 '\'AmpOptimWrapper\' with dtype \'float16\' or \'bfloat16\'; '
                                 'set other wrapper types inside each part')
            return dict(dtype=None)
        dtype = dtype or 'float16'
        if dtype not in ('float16', 'bfloat16', torch.float16, torch.bfloat16):
            raise ValueError(f'optim_wrapper.dtype must be \'float16\' or \'bfloat16\' with '
                             f'AmpOptimWrapper, got {dtype!r}')
        return dict(dtype=dtype, loss_scale=loss_scale)

    def _refuse_cpu_float16(self, device: torch.device) -> None:
        """float16 autocast on a CPU runs about 8x slower than float32: refused as ``--amp``
        refuses it (one message, :func:`mmpose_regda.apis.launch.cpu_float16_refusal`), unless
        ``optim_wrapper.allow_cpu_float16=True`` or ``MMPOSE_REGDA_ALLOW_CPU_FLOAT16=1``."""
        if (device.type != 'cpu' or torch.cuda.is_available()
                or self.precision['dtype'] not in ('float16', torch.float16)):
            return
        from mmpose_regda.apis.launch import cpu_float16_allowed, cpu_float16_refusal
        if not cpu_float16_allowed(dict(allow_cpu_float16=self.allow_cpu_float16)):
            raise ValueError(cpu_float16_refusal(
                "optim_wrapper.type='AmpOptimWrapper' with dtype='float16'"))

    def __call__(self, model: nn.Module) -> PartOptimWrapperDict:
        model = model.module if is_model_wrapper(model) else model
        parts = model.optim_parts()
        if sorted(parts) != sorted(self.part_cfgs):
            raise ValueError(f'optim_wrapper has parts {sorted(self.part_cfgs)}, but '
                             f'{type(model).__name__} trains parts {sorted(parts)} '
                             f'({parts}); give each of them a config (`<part>=None` drops '
                             'an inherited one)')
        wrappers = {}
        for name, modules in parts.items():
            part_cfg = copy.deepcopy(self.part_cfgs[name])
            paramwise_cfg = part_cfg.pop('paramwise_cfg', self.paramwise_cfg)
            # parameter names as in the model; MMSeparateDistributedDataParallel wraps each child
            part_model = nn.ModuleDict({
                module: getattr(model, module).module
                if is_model_wrapper(getattr(model, module)) else getattr(model, module)
                for module in modules})
            wrappers[name] = DefaultOptimWrapperConstructor(part_cfg, paramwise_cfg)(part_model)
        device = next(model.parameters()).device
        self._refuse_cpu_float16(device)
        return PartOptimWrapperDict(wrappers, accumulative_counts=self.accumulative_counts,
                                    device_type=device.type, **self.precision)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module(name='RegDAOptimWrapperConstructor')
class DeprecatedRegDAOptimWrapperConstructor(PartOptimWrapperConstructor):
    """``constructor='RegDAOptimWrapperConstructor'``, the name of the first configs:
    deprecated, it is ``PartOptimWrapperConstructor``."""

    def __init__(self, *args, **kwargs):
        warnings.warn("optim_wrapper.constructor='RegDAOptimWrapperConstructor' is deprecated: "
                      "use constructor='PartOptimWrapperConstructor'", DeprecationWarning,
                      stacklevel=2)
        super().__init__(*args, **kwargs)
