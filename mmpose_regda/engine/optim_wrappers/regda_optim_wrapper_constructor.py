"""One optimizer per part of a RegDA model, built from an MMPose config.

RegDA (Jiang et al., CVPR 2021) trains three parts of the model with their own optimizers and
learning rates: the *generator* (backbone and neck, the feature extractor ψ), the *head* f (the
keypoint regressor) and the *adversarial head* f' that plays the minimax game against it. One
training step runs several backward passes and steps a different subset of the optimizers after
each (f and f' in the adversarial phase, ψ in the minimisation phase), so the model's
``train_step`` needs each part's ``OptimWrapper`` by name: an ``OptimWrapperDict``.

mmengine's ``DefaultOptimWrapperConstructor`` builds exactly one optimizer over the whole model;
this constructor applies it once per part, to an ``nn.ModuleDict`` of that part's submodules, so
each part keeps every feature of the default one (``paramwise_cfg``, ``clip_grad``,
``accumulative_counts``, the wrapper ``type``) and parameter names read as in the model
(``backbone.layer1.0.conv1.weight``) in ``custom_keys`` and in the logs.
"""
import copy
from typing import Dict, List, Optional

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import (AmpOptimWrapper, DefaultOptimWrapperConstructor, OptimWrapper,
                            OptimWrapperDict)
from mmengine.registry import OPTIM_WRAPPERS

from mmpose.registry import OPTIM_WRAPPER_CONSTRUCTORS

#: Parts of a RegDA pose model and the submodules forming each, used when the model has no
#: ``optim_parts()``. Submodules the model lacks (a model without a neck) are skipped.
DEFAULT_OPTIM_PARTS: Dict[str, List[str]] = {
    'generator': ['backbone', 'neck'],
    'head': ['head'],
    'adv_head': ['adv_head'],
}

# Top-level keys of ``optim_wrapper`` that are not parts.
_AMP_KEY = 'amp'
_WRAPPER_TYPE_KEY = 'type'

_AMP_UNSUPPORTED = (
    'mixed precision is not supported by RegDAOptimWrapperConstructor: {why}. The RegDA model '
    'trains several optimizers from one backward pass, while each AmpOptimWrapper owns its own '
    'GradScaler, so the loss would be scaled by one scaler and unscaled by others (and an '
    'inf/nan check of one optimizer would not skip the steps of the others). Drop --amp (or '
    '`amp=True` / `type=\'AmpOptimWrapper\'` from `optim_wrapper`) and train in full precision.')


def _is_amp_wrapper_type(wrapper_type) -> bool:
    """Whether an optim wrapper ``type`` (a registered name or a class) is mixed precision.

    The name is resolved through the registry in the current default scope, so subclasses of
    ``AmpOptimWrapper`` registered under another name are caught too.
    """
    if isinstance(wrapper_type, str):
        with OPTIM_WRAPPERS.switch_scope_and_registry(None) as registry:
            wrapper_cls = registry.get(wrapper_type)
        if wrapper_cls is None:  # unknown: the build reports it with mmengine's own message
            return wrapper_type.split('.')[-1] == 'AmpOptimWrapper'
    else:
        wrapper_cls = wrapper_type
    return isinstance(wrapper_cls, type) and issubclass(wrapper_cls, AmpOptimWrapper)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class RegDAOptimWrapperConstructor:
    """Build an ``OptimWrapperDict`` with one ``OptimWrapper`` per part of the model.

    Config (each part is what ``DefaultOptimWrapperConstructor`` takes for a whole model)::

        optim_wrapper = dict(
            constructor='RegDAOptimWrapperConstructor',
            generator=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, nesterov=True,
                                          weight_decay=1e-4)),
            head=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, nesterov=True,
                                     weight_decay=1e-4)),
            adv_head=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, nesterov=True,
                                         weight_decay=1e-4),
                          paramwise_cfg=dict(norm_decay_mult=0.)),
        )

    Which submodules (direct children of the model) form a part:

    1. ``modules=[...]`` in the part's config, if given;
    2. otherwise the model's ``optim_parts()`` (a dict part -> list of child names), if it has
       one; its names must all exist;
    3. otherwise :data:`DEFAULT_OPTIM_PARTS`, skipping children the model lacks; a part left
       without modules is not a part of this model.

    Every part of the model needs a config entry and every config entry needs modules; every
    trainable parameter must belong to exactly one part. A missing or doubled parameter would
    otherwise silently never train, or be stepped twice per iteration with two learning rates.

    A part whose config is ``None`` is dropped (``optim_wrapper=dict(adv_head=None)`` in a config
    that inherits RegDA's schedule for a model without f').

    Keys of a part: ``optimizer`` (required), ``type`` (default ``'OptimWrapper'``),
    ``paramwise_cfg``, ``modules`` and any other argument of the wrapper (``clip_grad``,
    ``accumulative_counts``, ...). A top-level ``paramwise_cfg`` (which ``build_optim_wrapper``
    hands over separately) applies to every part that has no ``paramwise_cfg`` of its own; a
    part's own one replaces it (``paramwise_cfg=None`` in a part opts out).

    Mixed precision (``amp=True``, set by ``tools/train.py --amp``, or an ``AmpOptimWrapper``
    part) is refused with a ``ValueError``: one backward pass feeds several optimizers here,
    while each ``AmpOptimWrapper`` scales and unscales with a ``GradScaler`` of its own.

    Args:
        optim_wrapper_cfg (dict): ``optim_wrapper`` without ``constructor`` and
            ``paramwise_cfg``: part name -> part config, plus optionally ``amp``.
        paramwise_cfg (dict, optional): parameter-wise options shared by the parts.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        if not isinstance(optim_wrapper_cfg, dict):
            raise TypeError(f'optim_wrapper_cfg must be a dict of part configs, got '
                            f'{type(optim_wrapper_cfg).__name__}')
        if paramwise_cfg is not None and not isinstance(paramwise_cfg, dict):
            raise TypeError(f'optim_wrapper.paramwise_cfg must be None or a dict, got '
                            f'{type(paramwise_cfg).__name__}')
        # a part set to None is removed: a config inheriting a schedule drops a part it lacks
        cfg = {name: part for name, part in copy.deepcopy(dict(optim_wrapper_cfg)).items()
               if part is not None}
        if cfg.pop(_AMP_KEY, False):
            raise ValueError(_AMP_UNSUPPORTED.format(why='`optim_wrapper.amp=True` (--amp)'))
        if _WRAPPER_TYPE_KEY in cfg:
            wrapper_type = cfg.pop(_WRAPPER_TYPE_KEY)
            if _is_amp_wrapper_type(wrapper_type):
                # mmengine's build_optim_wrapper forces this on NPUs without full precision
                raise ValueError(_AMP_UNSUPPORTED.format(
                    why=f'`optim_wrapper.type={wrapper_type!r}`'))
            raise ValueError(
                f'`optim_wrapper.type={wrapper_type!r}` is not used by '
                'RegDAOptimWrapperConstructor, which builds an OptimWrapperDict; set `type` '
                'inside each part (generator=dict(type=..., optimizer=...)) instead.')
        if not cfg:
            raise ValueError('optim_wrapper has no parts; expected one config per part of the '
                             f'model, e.g. {list(DEFAULT_OPTIM_PARTS)}')
        if 'optimizer' in cfg:
            raise ValueError(
                'optim_wrapper.optimizer is a single-optimizer config, but '
                'RegDAOptimWrapperConstructor builds one optimizer per part: put `optimizer` '
                f'inside each part instead, e.g. {list(DEFAULT_OPTIM_PARTS)[0]}=dict('
                "optimizer=dict(type='SGD', lr=0.01))")
        for name, part_cfg in cfg.items():
            if not isinstance(part_cfg, dict):
                raise TypeError(
                    f'optim_wrapper.{name} must be a part config dict (with `optimizer`), got '
                    f'{part_cfg!r}; the keys of optim_wrapper besides `constructor`, '
                    f'`paramwise_cfg` and `amp` are model parts, e.g. '
                    f'{list(DEFAULT_OPTIM_PARTS)}')
            if 'optimizer' not in part_cfg:
                raise KeyError(f'optim_wrapper.{name} has no `optimizer`; each part needs '
                               "one, e.g. optimizer=dict(type='SGD', lr=0.01)")
            wrapper_type = part_cfg.get(_WRAPPER_TYPE_KEY, 'OptimWrapper')
            if _is_amp_wrapper_type(wrapper_type):
                raise ValueError(_AMP_UNSUPPORTED.format(
                    why=f'`optim_wrapper.{name}.type={wrapper_type!r}`'))
            modules = part_cfg.get('modules', None)
            if modules is not None and (not isinstance(modules, (list, tuple))
                                        or not all(isinstance(m, str) for m in modules)):
                raise TypeError(f'optim_wrapper.{name}.modules must be a list of names of '
                                f'submodules of the model, got {modules!r}')
        self.part_cfgs: Dict[str, dict] = cfg
        self.paramwise_cfg = paramwise_cfg

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if is_model_wrapper(model):
            model = model.module
        parts = self.resolve_parts(model)
        self._check_parameters(model, parts)

        optim_wrappers = {}
        for name, part_cfg in self.part_cfgs.items():
            part_cfg = copy.deepcopy(part_cfg)
            part_cfg.pop('modules', None)
            paramwise_cfg = part_cfg.pop('paramwise_cfg', self.paramwise_cfg)
            part_model = nn.ModuleDict()
            for module_name in parts[name]:
                module = getattr(model, module_name)
                # MMSeparateDistributedDataParallel wraps each child in its own DDP
                part_model[module_name] = module.module if is_model_wrapper(module) else module
            if paramwise_cfg and not any(p.requires_grad for p in part_model.parameters()):
                raise ValueError(
                    f'optim_wrapper part `{name}` (modules {parts[name]}) has no parameter with '
                    'requires_grad=True, and with a paramwise_cfg the optimizer would get none; '
                    'unfreeze them or remove the paramwise_cfg of this part.')
            print_log(f'RegDAOptimWrapperConstructor: part `{name}` optimises modules '
                      f'{parts[name]}', logger='current')
            optim_wrappers[name] = DefaultOptimWrapperConstructor(
                part_cfg, paramwise_cfg)(part_model)
        return OptimWrapperDict(**optim_wrappers)

    def resolve_parts(self, model: nn.Module) -> Dict[str, List[str]]:
        """Part name -> names of the model's child modules forming it (see the class doc).

        Raises:
            ValueError: a part of the config has no modules in the model, a part of the model
                has no config, or a named module does not exist.
        """
        # not named_children(), which skips a module registered under a second name: a module
        # shared by two parts must show up in both, to be reported as a doubled parameter
        children = {name: m for name, m in model._modules.items() if m is not None}
        model_name = type(model).__name__

        optim_parts = getattr(model, 'optim_parts', None)
        if callable(optim_parts):
            source = f'{model_name}.optim_parts()'
            declared = optim_parts()
            if not isinstance(declared, dict):
                raise TypeError(f'{source} must return a dict part -> list of module names, '
                                f'got {declared!r}')
            parts = {}
            for name, modules in declared.items():
                modules = [modules] if isinstance(modules, str) else list(modules)
                self._check_modules_exist(modules, children, f"{source}['{name}']", model_name)
                if modules:
                    parts[name] = modules
        else:
            source = f'the default parts (no {model_name}.optim_parts())'
            parts = {}
            for name, modules in DEFAULT_OPTIM_PARTS.items():
                present = [m for m in modules if m in children]
                if present:
                    parts[name] = present

        for name, part_cfg in self.part_cfgs.items():
            modules = part_cfg.get('modules', None)
            if modules is None:
                continue
            modules = list(modules)
            self._check_modules_exist(modules, children, f'optim_wrapper.{name}.modules',
                                      model_name)
            parts[name] = modules

        unconfigured = [name for name in parts if name not in self.part_cfgs]
        if unconfigured:
            raise ValueError(
                f'the model has part(s) {unconfigured} without a config in optim_wrapper; '
                f'expected parts: {list(parts)} (from {source}). Add e.g. '
                f"{unconfigured[0]}=dict(optimizer=dict(type='SGD', lr=...)) to optim_wrapper.")
        empty = [name for name in self.part_cfgs if not parts.get(name)]
        if empty:
            raise ValueError(
                f'optim_wrapper part(s) {empty} have no modules in {model_name}; its parts '
                f'are {list(parts)} (from {source}), its submodules {list(children)}. Remove '
                'the part, or list its submodules with `modules=[...]` in its config.')
        return {name: parts[name] for name in self.part_cfgs}

    @staticmethod
    def _check_modules_exist(modules: List[str], children: Dict[str, nn.Module], where: str,
                             model_name: str) -> None:
        for module_name in modules:
            if not isinstance(module_name, str) or module_name not in children:
                raise ValueError(
                    f'{where} names module {module_name!r}, which is not a direct submodule of '
                    f'{model_name}; its submodules are {list(children)}.')

    @staticmethod
    def _check_parameters(model: nn.Module, parts: Dict[str, List[str]]) -> None:
        """Every trainable parameter in exactly one part; no parameter in two; none empty."""
        owner: Dict[int, str] = {}
        for name, modules in parts.items():
            part_params = {id(p): p for m in modules for p in getattr(model, m).parameters()}
            if not part_params:
                raise ValueError(f'optim_wrapper part `{name}` (modules {modules}) has no '
                                 'parameters; torch optimizers need at least one.')
            for pid in part_params:
                if pid in owner and owner[pid] != name:
                    param_name = next(n for n, p in model.named_parameters() if id(p) == pid)
                    raise ValueError(
                        f'parameter `{param_name}` is in optim_wrapper parts `{owner[pid]}` '
                        f'({parts[owner[pid]]}) and `{name}` ({modules}); each parameter must '
                        'be optimised by exactly one part.')
                owner[pid] = name
        orphans = [n for n, p in model.named_parameters()
                   if p.requires_grad and id(p) not in owner]
        if orphans:
            shown = ', '.join(orphans[:10]) + (f' and {len(orphans) - 10} more'
                                               if len(orphans) > 10 else '')
            raise ValueError(
                f'parameter(s) {shown} (requires_grad=True) belong to no optim_wrapper part, so '
                f'would never be trained; the parts are {parts}. Add their module to a part '
                '(`modules=[...]` in its config, or the model\'s optim_parts()), or set '
                'requires_grad=False.')
