"""PartOptimWrapperConstructor: one optimizer per part the model declares, holding exactly that
part's parameters with that part's settings; precision set once for all parts; clear refusals."""
import copy
import warnings

import pytest
import torch
import torch.nn as nn
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

import mmpose_regda  # noqa: F401  applies the fixes and registers the plugin
from mmpose.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmpose_regda.engine.optim_wrappers import PartOptimWrapperConstructor, PartOptimWrapperDict
from tiny_regda import build_tiny_regda


def sgd(lr, momentum=0.9, nesterov=True, weight_decay=1e-4):
    return dict(type='SGD', lr=lr, momentum=momentum, nesterov=nesterov,
                weight_decay=weight_decay)


def regda_cfg(**top_level):
    """The config users write (less ``constructor``, which build_optim_wrapper pops)."""
    return dict(
        generator=dict(optimizer=sgd(0.01)),
        head=dict(optimizer=sgd(0.1), clip_grad=dict(max_norm=1.)),
        adv_head=dict(optimizer=sgd(0.2, momentum=0.5, nesterov=False),
                      paramwise_cfg=dict(norm_decay_mult=0.)),
        **top_level)


def build(model, cfg=None, paramwise_cfg=None):
    return PartOptimWrapperConstructor(regda_cfg() if cfg is None else cfg, paramwise_cfg)(model)


def optimizer_params(wrapper):
    return {id(p) for group in wrapper.optimizer.param_groups for p in group['params']}


def module_params(*modules):
    return {id(p) for m in modules for p in m.parameters()}


def test_one_wrapper_per_part_holding_exactly_its_parameters_and_settings():
    model = build_tiny_regda()
    wrappers = build(model)
    assert isinstance(wrappers, PartOptimWrapperDict)
    assert optimizer_params(wrappers['generator']) == module_params(model.backbone)
    assert optimizer_params(wrappers['head']) == module_params(model.head)
    assert optimizer_params(wrappers['adv_head']) == module_params(model.adv_head)
    assert wrappers['generator'].optimizer.defaults['lr'] == 0.01
    assert wrappers['adv_head'].optimizer.defaults['momentum'] == 0.5
    assert wrappers['head'].clip_grad_kwargs == dict(max_norm=1.)
    assert wrappers['generator'].clip_grad_kwargs is None
    # the part's paramwise_cfg: f''s batch norm without weight decay, f's with
    norm = module_params(*[m for m in model.adv_head.modules() if isinstance(m, nn.BatchNorm2d)])
    decays = {id(p): g['weight_decay'] for g in wrappers['adv_head'].optimizer.param_groups
              for p in g['params']}
    assert norm and {decays[p] for p in norm} == {0.}
    assert decays[id(model.adv_head.final_layer.weight)] == 1e-4
    assert len(wrappers['head'].optimizer.param_groups) == 1
    assert wrappers.cast_dtype is None  # full precision


def test_top_level_paramwise_cfg_applies_to_parts_without_their_own():
    model = build_tiny_regda()
    wrappers = build(model, paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.)}))
    assert {g['lr'] for g in wrappers['generator'].optimizer.param_groups} == {0.}
    assert {g['lr'] for g in wrappers['adv_head'].optimizer.param_groups} == {0.2}


def test_build_optim_wrapper_with_the_user_config_both_names():
    """mmengine's build_optim_wrapper pops `constructor`; the configs' first name still works."""
    model = build_tiny_regda()
    for name in ('PartOptimWrapperConstructor', 'RegDAOptimWrapperConstructor'):
        cfg = dict(constructor=name, **regda_cfg())
        original = copy.deepcopy(cfg)
        with DefaultScope.overwrite_default_scope('mmpose'), warnings.catch_warnings(
                record=True) as caught:
            warnings.simplefilter('always')
            wrappers = build_optim_wrapper(model, cfg)
        deprecations = [str(w.message) for w in caught if w.category is DeprecationWarning]
        assert any("use constructor='PartOptimWrapperConstructor'" in message
                   for message in deprecations) == (name == 'RegDAOptimWrapperConstructor')
        assert cfg == original  # the config is not consumed
        assert sorted(wrappers.keys()) == ['adv_head', 'generator', 'head']
    assert issubclass(OPTIM_WRAPPER_CONSTRUCTORS.get('RegDAOptimWrapperConstructor'),
                      PartOptimWrapperConstructor)


def test_a_part_set_to_none_is_dropped():
    """A config inheriting RegDA's schedule drops f''s part for a model without f'."""
    model = build_tiny_regda(type='FeatureAlignmentPoseEstimator',
                             alignment=dict(type='MultiKernelMMDLoss'))
    wrappers = build(model, dict(regda_cfg(), adv_head=None))
    assert sorted(wrappers.keys()) == ['generator', 'head']


@pytest.mark.parametrize('change, match', [
    (dict(adv_head=None), r"optim_wrapper has parts \['generator', 'head'\], but "
     r"RegDAPoseEstimator trains parts \['adv_head', 'generator', 'head'\]"),
    (dict(alignment=dict(optimizer=sgd(0.1))), r"has parts \['adv_head', 'alignment'"),
    (dict(head=dict(lr=0.1)), r'optim_wrapper.head must be a part config with an `optimizer`'),
    (dict(optimizer=sgd(0.1)), r'optim_wrapper.optimizer must be a part config'),
    (dict(head=dict(type='AmpOptimWrapper', optimizer=sgd(0.1))),
     r'optim_wrapper.head.type: mixed precision is set for all parts at once'),
    (dict(type='AmpOptimWrapper', dtype='float64'), r"dtype must be 'float16' or 'bfloat16'"),
    (dict(dtype='bfloat16'), r"top level takes type 'OptimWrapper' \(full precision\) or "
     r"'AmpOptimWrapper'"),
])
def test_inconsistent_configs_are_refused_naming_what_is_expected(change, match):
    with pytest.raises(ValueError, match=match):
        build(build_tiny_regda(), dict(regda_cfg(), **change))


@pytest.mark.parametrize('top_level, dtype', [
    # what --amp writes; float16 on a CPU is what this tests
    (dict(type='AmpOptimWrapper', loss_scale='dynamic', allow_cpu_float16=True), torch.float16),
    (dict(type='AmpOptimWrapper', dtype='bfloat16'), torch.bfloat16),
])
def test_mixed_precision_is_set_once_for_every_part(top_level, dtype):
    wrappers = build(build_tiny_regda(), regda_cfg(**top_level))
    assert wrappers.cast_dtype == dtype
    assert wrappers.scales_loss == (dtype == torch.float16)
    assert wrappers.device_type == 'cpu'  # the model's
    assert all(type(w).__name__ == 'OptimWrapper' for w in wrappers.values())


class UnstartedDDP(MMDistributedDataParallel):
    """A DDP module as MMSeparateDistributedDataParallel puts around each part, without the
    process group a real one needs."""

    def __init__(self, module):
        nn.Module.__init__(self)
        self.module = module


def test_parameters_are_read_through_each_part_s_ddp_wrapper():
    model = build_tiny_regda()
    backbone = model.backbone
    model.backbone = UnstartedDDP(backbone)
    wrappers = build(model)
    assert optimizer_params(wrappers['generator']) == module_params(backbone)
    names = {n for g in wrappers['generator'].optimizer.param_groups for n in g.get('names', [])}
    assert not any('module.' in n for n in names)


def test_a_trainable_parameter_in_no_part_is_refused_by_name():
    model = build_tiny_regda()
    model.extra = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"parameters \['extra.weight', 'extra.bias'\] belong "
                       'to no part'):
        model.optim_parts()
    model.extra.requires_grad_(False)  # frozen modules outside the parts are fine
    assert sorted(model.optim_parts()) == ['adv_head', 'generator', 'head']


def test_a_module_in_two_parts_is_refused():
    model = build_tiny_regda()
    model.OPTIM_PARTS = dict(generator=('backbone', 'head'), head=('head', ),
                             adv_head=('adv_head', ))
    with pytest.raises(ValueError, match=r"in parts `generator` and `head`"):
        model.optim_parts()
