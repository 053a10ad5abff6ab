"""RegDAOptimWrapperConstructor: one optimizer per part, holding exactly that part's parameters
with that part's settings, and a clear refusal of every inconsistent config."""
import copy

import pytest
import torch
import torch.nn as nn
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict, build_optim_wrapper
from mmengine.registry import DefaultScope

import mmpose_regda  # noqa: F401  applies the fixes and registers the plugin
from mmpose.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmpose_regda.engine.optim_wrappers import RegDAOptimWrapperConstructor


class ToyPoseModel(nn.Module):
    """The submodule layout of a RegDA pose model: backbone, neck, head, adversarial head."""

    def __init__(self, neck=True):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
        if neck:
            self.neck = nn.Conv2d(4, 4, 1)
        self.head = nn.Conv2d(4, 2, 1)
        self.adv_head = nn.Sequential(nn.Conv2d(4, 2, 1), nn.BatchNorm2d(2))

    def forward(self, x):
        feats = self.backbone(x)
        if hasattr(self, 'neck'):
            feats = self.neck(feats)
        return self.head(feats), self.adv_head(feats)


class PartsModel(ToyPoseModel):
    """Declares its own parts: the neck is trained with the head."""

    def optim_parts(self):
        return {'generator': ['backbone'], 'head': ['head', 'neck'], 'adv_head': ['adv_head']}


def sgd(lr, momentum=0.9, nesterov=True, weight_decay=1e-4):
    return dict(type='SGD', lr=lr, momentum=momentum, nesterov=nesterov,
                weight_decay=weight_decay)


def regda_cfg():
    """The config users write (less ``constructor``, which build_optim_wrapper pops)."""
    return dict(
        generator=dict(optimizer=sgd(0.01)),
        head=dict(optimizer=sgd(0.1)),
        adv_head=dict(optimizer=sgd(0.2, momentum=0.5, nesterov=False),
                      paramwise_cfg=dict(norm_decay_mult=0.)),
    )


def build(model, cfg=None, paramwise_cfg=None):
    cfg = regda_cfg() if cfg is None else cfg
    return RegDAOptimWrapperConstructor(cfg, paramwise_cfg)(model)


def ids(params):
    return {id(p) for p in params}


def optimizer_ids(wrapper):
    return {id(p) for group in wrapper.optimizer.param_groups for p in group['params']}


def module_ids(*modules):
    return {id(p) for m in modules for p in m.parameters()}


def test_one_wrapper_per_part_holding_exactly_its_parameters():
    model = ToyPoseModel()
    wrappers = build(model)
    assert isinstance(wrappers, OptimWrapperDict)
    assert list(wrappers.keys()) == ['generator', 'head', 'adv_head']
    assert all(type(w) is OptimWrapper for w in wrappers.values())
    assert optimizer_ids(wrappers['generator']) == module_ids(model.backbone, model.neck)
    assert optimizer_ids(wrappers['head']) == module_ids(model.head)
    assert optimizer_ids(wrappers['adv_head']) == module_ids(model.adv_head)
    # no parameter counted twice inside one optimizer either
    for wrapper in wrappers.values():
        params = [p for g in wrapper.optimizer.param_groups for p in g['params']]
        assert len(params) == len(ids(params))


def test_each_part_takes_its_optimizer_settings_from_its_config():
    wrappers = build(ToyPoseModel())
    expected = {'generator': (0.01, 0.9, True), 'head': (0.1, 0.9, True),
                'adv_head': (0.2, 0.5, False)}
    for name, (lr, momentum, nesterov) in expected.items():
        optimizer = wrappers[name].optimizer
        assert isinstance(optimizer, torch.optim.SGD)
        for group in optimizer.param_groups:
            assert (group['lr'], group['momentum'], group['nesterov']) == (lr, momentum,
                                                                           nesterov), name
    lrs = wrappers.get_lr()  # the runner logs these
    assert (lrs['generator.lr'], lrs['head.lr'], lrs['adv_head.lr']) == ([0.01], [0.1], [0.2] * 4)


def test_a_part_paramwise_cfg_applies_to_that_part_only():
    model = ToyPoseModel()
    wrappers = build(model)
    decay = {id(p): g['weight_decay'] for w in wrappers.values()
             for g in w.optimizer.param_groups for p in g['params']}
    adv_conv, adv_bn = model.adv_head
    assert [decay[id(p)] for p in adv_bn.parameters()] == [0., 0.]
    assert [decay[id(p)] for p in adv_conv.parameters()] == [1e-4, 1e-4]
    # the generator has no paramwise_cfg: its BatchNorm keeps the weight decay
    assert [decay[id(p)] for p in model.backbone[1].parameters()] == [1e-4, 1e-4]
    assert len(wrappers['generator'].optimizer.param_groups) == 1


def test_top_level_paramwise_cfg_applies_to_parts_without_their_own():
    """custom_keys read as in the model (backbone.0...), since each part is a ModuleDict of the
    model's own submodule names."""
    model = ToyPoseModel()
    cfg = regda_cfg()
    cfg['head']['paramwise_cfg'] = None  # opts out of the shared one
    shared = dict(custom_keys={'backbone.0': dict(lr_mult=0.1), 'head': dict(lr_mult=0.5)})
    wrappers = build(model, cfg, paramwise_cfg=shared)
    lr = {id(p): g['lr'] for w in wrappers.values()
          for g in w.optimizer.param_groups for p in g['params']}
    assert [lr[id(p)] for p in model.backbone[0].parameters()] == pytest.approx([0.001] * 2)
    assert {lr[id(p)] for p in model.backbone[1].parameters()} == {0.01}
    assert {lr[id(p)] for p in model.neck.parameters()} == {0.01}
    # head opted out: its 'head' custom key does not apply
    assert {lr[id(p)] for p in model.head.parameters()} == {0.1}
    # adv_head has its own paramwise_cfg, which replaces the shared one ('head' would match)
    assert {lr[id(p)] for p in model.adv_head.parameters()} == {0.2}


def test_the_model_optim_parts_are_honoured():
    model = PartsModel()
    wrappers = build(model)
    assert optimizer_ids(wrappers['generator']) == module_ids(model.backbone)
    assert optimizer_ids(wrappers['head']) == module_ids(model.head, model.neck)
    assert optimizer_ids(wrappers['adv_head']) == module_ids(model.adv_head)


def test_modules_in_the_config_override_the_parts():
    model = PartsModel()
    cfg = regda_cfg()
    cfg['generator']['modules'] = ['backbone', 'neck']
    cfg['head']['modules'] = ['head']
    wrappers = build(model, cfg)
    assert optimizer_ids(wrappers['generator']) == module_ids(model.backbone, model.neck)
    assert optimizer_ids(wrappers['head']) == module_ids(model.head)


def test_a_model_without_neck_gets_a_backbone_only_generator():
    model = ToyPoseModel(neck=False)
    wrappers = build(model)
    assert optimizer_ids(wrappers['generator']) == module_ids(model.backbone)


def test_a_wrapped_model_is_unwrapped():
    model = ToyPoseModel()
    wrappers = build(nn.DataParallel(model))  # a registered model wrapper, CPU-constructible
    assert optimizer_ids(wrappers['head']) == module_ids(model.head)


def test_frozen_parameters_outside_the_parts_are_allowed():
    model = ToyPoseModel()
    model.extra = nn.Linear(2, 2).requires_grad_(False)
    wrappers = build(model)
    assert not optimizer_ids(wrappers['generator']) & module_ids(model.extra)


def test_the_wrappers_step_their_own_part_only():
    model = ToyPoseModel()
    wrappers = build(model)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    out, adv_out = model(torch.randn(2, 3, 5, 5))
    wrappers['head'].update_params(out.square().mean() + adv_out.square().mean())
    changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert changed == {'head.weight', 'head.bias'}


# --- errors ------------------------------------------------------------------------------------

def test_a_config_part_without_modules_in_the_model_is_refused():
    cfg = regda_cfg()
    cfg['discriminator'] = dict(optimizer=sgd(0.1))
    with pytest.raises(ValueError, match=r"part\(s\) \['discriminator'\] have no modules in "
                       r'ToyPoseModel; its parts are \[.generator., .head., .adv_head.\]'):
        build(ToyPoseModel(), cfg)


def test_a_model_part_without_config_is_refused_naming_the_expected_parts():
    cfg = regda_cfg()
    del cfg['adv_head']
    with pytest.raises(ValueError, match=r"part\(s\) \['adv_head'\] without a config in "
                       r"optim_wrapper; expected parts: \['generator', 'head', 'adv_head'\]"):
        build(ToyPoseModel(), cfg)


def test_a_trainable_parameter_in_no_part_is_refused_by_name():
    model = ToyPoseModel()
    model.extra = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r'parameter\(s\) extra\.weight, extra\.bias '
                       r'\(requires_grad=True\) belong to no optim_wrapper part'):
        build(model)


def test_a_module_left_out_by_config_modules_is_refused():
    cfg = regda_cfg()
    cfg['generator']['modules'] = ['backbone']
    with pytest.raises(ValueError, match=r'parameter\(s\) neck\.weight, neck\.bias'):
        build(ToyPoseModel(), cfg)


def test_a_parameter_in_two_parts_is_refused():
    cfg = regda_cfg()
    cfg['generator']['modules'] = ['backbone', 'neck', 'head']
    with pytest.raises(ValueError, match=r'parameter `head\.weight` is in optim_wrapper parts '
                       r'`generator` .* and `head`'):
        build(ToyPoseModel(), cfg)


def test_a_module_shared_by_two_parts_is_refused():
    model = ToyPoseModel()
    model.adv_head = model.head  # registered twice: named_children() would hide the second
    with pytest.raises(ValueError, match=r'parameter `head\.weight` is in optim_wrapper parts '
                       r'`head` .* and `adv_head`'):
        build(model)


@pytest.mark.parametrize('model, cfg_modules, match', [
    (PartsModel(neck=False), None,
     r"PartsModel\.optim_parts\(\)\['head'\] names module 'neck', which is not a direct "
     r'submodule of PartsModel'),
    (ToyPoseModel(), ['backbone', 'nek'],
     r"optim_wrapper\.generator\.modules names module 'nek', which is not a direct submodule "
     r"of ToyPoseModel; its submodules are \['backbone', 'neck', 'head', 'adv_head'\]"),
])
def test_unknown_module_names_are_refused(model, cfg_modules, match):
    cfg = regda_cfg()
    if cfg_modules is not None:
        cfg['generator']['modules'] = cfg_modules
    with pytest.raises(ValueError, match=match):
        build(model, cfg)


@pytest.mark.parametrize('change, match', [
    (lambda cfg: cfg.update(amp=True), r'`optim_wrapper\.amp=True` \(--amp\)'),
    (lambda cfg: cfg['head'].update(type='AmpOptimWrapper'),
     r"`optim_wrapper\.head\.type='AmpOptimWrapper'`"),
    (lambda cfg: cfg['head'].update(type=AmpOptimWrapper), r'`optim_wrapper\.head\.type='),
    (lambda cfg: cfg.update(type='AmpOptimWrapper'), r"`optim_wrapper\.type='AmpOptimWrapper'`"),
])
def test_mixed_precision_is_refused(change, match):
    cfg = regda_cfg()
    change(cfg)
    with pytest.raises(ValueError, match=r'mixed precision is not supported') as info:
        RegDAOptimWrapperConstructor(cfg)
    assert info.match(match)
    assert info.match('GradScaler') and info.match('Drop --amp')


def test_amp_false_is_accepted():
    cfg = regda_cfg()
    cfg['amp'] = False
    assert set(build(ToyPoseModel(), cfg).keys()) == {'generator', 'head', 'adv_head'}


@pytest.mark.parametrize('change, error, match', [
    (lambda cfg: cfg['head'].pop('optimizer'), KeyError, r'optim_wrapper\.head has no '
     r'`optimizer`'),
    (lambda cfg: cfg.update(optimizer=sgd(0.1)), ValueError,
     r'optim_wrapper\.optimizer is a single-optimizer config.*put `optimizer` inside each '
     r'part'),
    (lambda cfg: cfg.update(clip_grad=1.0), TypeError,
     r'optim_wrapper\.clip_grad must be a part config dict \(with `optimizer`\), got 1\.0'),
    (lambda cfg: cfg.clear(), ValueError, r'optim_wrapper has no parts'),
    (lambda cfg: cfg.update(type='OptimWrapper'), ValueError, r'set `type` inside each part'),
    (lambda cfg: cfg['head'].update(modules='head'), TypeError,
     r'optim_wrapper\.head\.modules must be a list of names'),
])
def test_malformed_configs_are_refused(change, error, match):
    cfg = regda_cfg()
    change(cfg)
    with pytest.raises(error, match=match):
        RegDAOptimWrapperConstructor(cfg)


# --- through mmengine -----------------------------------------------------------------------------

def test_registered_in_mmpose():
    assert OPTIM_WRAPPER_CONSTRUCTORS.get('RegDAOptimWrapperConstructor') is \
        RegDAOptimWrapperConstructor


def test_build_optim_wrapper_with_the_user_config():
    """mmengine's build_optim_wrapper pops `constructor` and `paramwise_cfg`; under the mmpose
    default scope (configs set default_scope='mmpose') it finds the constructor."""
    model = ToyPoseModel()
    cfg = dict(constructor='RegDAOptimWrapperConstructor',
               paramwise_cfg=dict(custom_keys={'neck': dict(lr_mult=0.)}),
               **regda_cfg())
    cfg['generator']['clip_grad'] = dict(max_norm=1.0)
    original = copy.deepcopy(cfg)
    with DefaultScope.overwrite_default_scope('mmpose'):
        wrappers = build_optim_wrapper(model, cfg)
    assert cfg == original  # the config is not consumed
    assert isinstance(wrappers, OptimWrapperDict)
    assert list(wrappers.keys()) == ['generator', 'head', 'adv_head']
    assert optimizer_ids(wrappers['generator']) == module_ids(model.backbone, model.neck)
    assert wrappers['generator'].clip_grad_kwargs == dict(max_norm=1.0)
    neck_lrs = {g['lr'] for g in wrappers['generator'].optimizer.param_groups
                if ids(g['params']) <= module_ids(model.neck)}
    assert neck_lrs == {0.}


def test_a_part_set_to_none_is_dropped():
    """A config inheriting RegDA's schedule drops f''s part for a model without f'."""
    from mmpose_regda.models import FeatureAlignmentPoseEstimator  # noqa: F401
    from tiny_regda import build_tiny_regda
    model = build_tiny_regda(type='FeatureAlignmentPoseEstimator',
                             alignment=dict(type='MultiKernelMMDLoss'))
    cfg = dict(constructor='RegDAOptimWrapperConstructor', adv_head=None, **{
        part: dict(optimizer=sgd(0.1)) for part in ('generator', 'head')})
    with DefaultScope.overwrite_default_scope('mmpose'):
        wrappers = build_optim_wrapper(model, cfg)
    assert list(wrappers.keys()) == ['generator', 'head']
