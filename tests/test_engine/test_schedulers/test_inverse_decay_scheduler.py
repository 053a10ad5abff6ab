"""InverseDecayLR: RegDA's lr_i = base_lr * (1 + gamma * i) ** (-power), against values worked
out by hand, in both forms, with begin/end, and built the way mmengine's runner builds it."""
import pytest
import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import DefaultScope

import mmpose_regda  # noqa: F401  applies the fixes and registers the plugin
from mmpose.registry import PARAM_SCHEDULERS
from mmpose_regda.engine.schedulers import InverseDecayLR, InverseDecayParamScheduler

# x ** -0.75, worked out to 30 digits with decimal: exp(-0.75 * ln x)
POW_1_0001 = 0.999925006561898493891127222378  # 1.0001 ** -0.75  (i=1 at gamma=1e-4)
POW_1_001 = 0.999250655649000929590096804088  # 1.001 ** -0.75   (i=10)
POW_1_1 = 0.931012444622222844912859054566  # 1.1 ** -0.75     (i=1000)
POW_2 = 0.594603557501360533358749985280  # 2 ** -0.75       (gamma * i = 1)


def make_optimizer(lrs=(0.01, ), momentum=0.9):
    """An SGD with one parameter group per learning rate."""
    groups = [dict(params=[nn.Parameter(torch.zeros(2))], lr=lr) for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=momentum)


def run(optimizer, scheduler, steps):
    """Train loop order: optimizer step, then scheduler step; lrs of group 0 before each step."""
    step_owner = optimizer.optimizer if isinstance(optimizer, OptimWrapper) else optimizer
    seen = []
    for _ in range(steps):
        seen.append(step_owner.param_groups[0]['lr'])
        optimizer.step()
        scheduler.step()
    seen.append(step_owner.param_groups[0]['lr'])
    return seen


def test_defaults_are_the_reference_ones():
    scheduler = InverseDecayLR(make_optimizer())
    assert (scheduler.gamma, scheduler.power, scheduler.by_epoch) == (1e-4, 0.75, False)
    assert scheduler.param_name == 'lr'


@pytest.mark.parametrize('wrap', [False, True], ids=['optimizer', 'optim_wrapper'])
def test_lr_after_0_1_10_1000_steps_is_the_hand_computed_value(wrap):
    optimizer = make_optimizer(lrs=(0.01, ))
    target = OptimWrapper(optimizer) if wrap else optimizer
    scheduler = InverseDecayLR(target)
    lrs = run(target, scheduler, 1000)
    expected = {0: 0.01, 1: 0.01 * POW_1_0001, 10: 0.01 * POW_1_001, 1000: 0.01 * POW_1_1}
    for i, lr in expected.items():
        assert lrs[i] == pytest.approx(lr, rel=1e-12), f'step {i}'
    # the recursive form applied 1000 times agrees with the closed form at the same step
    assert scheduler.last_step == 1000
    assert scheduler._get_closed_form_values() == pytest.approx([0.01 * POW_1_1], rel=1e-15)
    assert optimizer.param_groups[0]['lr'] == pytest.approx(
        scheduler._get_closed_form_values()[0], rel=1e-12)
    assert scheduler.get_last_value() == [optimizer.param_groups[0]['lr']]


def test_each_param_group_decays_from_its_own_lr():
    """gamma=1, power=1: lr_i = base / (1 + i), exactly; groups keep their own base."""
    optimizer = make_optimizer(lrs=(0.1, 1.0))
    scheduler = InverseDecayLR(optimizer, gamma=1.0, power=1.0)
    run(optimizer, scheduler, 3)
    assert [g['lr'] for g in optimizer.param_groups] == pytest.approx([0.1 / 4, 1.0 / 4])
    assert scheduler._get_closed_form_values() == pytest.approx([0.1 / 4, 1.0 / 4])


def test_recursive_and_closed_form_agree_at_every_step():
    optimizer = make_optimizer(lrs=(0.3, 0.02))
    scheduler = InverseDecayParamScheduler(optimizer, 'lr', gamma=0.1, power=0.75)
    for i in range(40):
        lrs = [g['lr'] for g in optimizer.param_groups]
        assert lrs == pytest.approx(scheduler._get_closed_form_values(), rel=1e-13), f'step {i}'
        assert lrs == pytest.approx([lr * (1 + 0.1 * i)**-0.75 for lr in (0.3, 0.02)])
        if i == 10:  # gamma * i = 1
            assert lrs == pytest.approx([0.3 * POW_2, 0.02 * POW_2], rel=1e-13)
        optimizer.step()
        scheduler.step()
    assert scheduler.last_step == 40


def test_schedules_another_param_than_lr():
    optimizer = make_optimizer(momentum=0.8)
    scheduler = InverseDecayParamScheduler(optimizer, 'momentum', gamma=0.1, power=0.75)
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]['momentum'] == pytest.approx(0.8 * POW_2, rel=1e-12)
    assert optimizer.param_groups[0]['lr'] == 0.01


def test_begin_and_end_count_steps_from_begin_and_hold_after_end():
    optimizer = make_optimizer(lrs=(1.0, ))
    scheduler = InverseDecayLR(optimizer, gamma=1.0, power=1.0, begin=5, end=8)
    lrs = run(optimizer, scheduler, 12)
    # untouched before begin; i = step - begin inside [begin, end); held at i = 2 after end
    assert lrs == pytest.approx([1.0] * 6 + [1 / 2, 1 / 3] + [1 / 3] * 5)


def test_the_recursive_form_chains_with_outside_changes():
    """Chainable like mmengine's other schedulers: it multiplies the current value."""
    optimizer = make_optimizer(lrs=(1.0, ))
    scheduler = InverseDecayLR(optimizer, gamma=1.0, power=1.0)
    run(optimizer, scheduler, 1)  # 1 -> 1/2
    optimizer.param_groups[0]['lr'] *= 0.5  # e.g. another scheduler on the same lr: 1/4
    optimizer.step()
    scheduler.step()  # ratio (1 + 1) / (1 + 2)
    assert optimizer.param_groups[0]['lr'] == pytest.approx(1 / 4 * 2 / 3)


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(gamma=-1e-4), ValueError, r'`gamma` must be a finite number >= 0, got -0\.0001'),
    (dict(power=-0.75), ValueError, r'`power` must be a finite number >= 0, got -0\.75'),
    (dict(gamma=float('inf')), ValueError, r'`gamma` must be a finite number >= 0'),
    (dict(power=float('nan')), ValueError, r'`power` must be a finite number >= 0'),
    (dict(gamma='1e-4'), TypeError, r"`gamma` must be a real number >= 0, got '1e-4'"),
    (dict(power=True), TypeError, r'`power` must be a real number >= 0, got True'),
])
def test_invalid_gamma_or_power_is_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        InverseDecayLR(make_optimizer(), **kwargs)


def test_zero_gamma_or_power_keeps_the_lr():
    for kwargs in (dict(gamma=0), dict(power=0)):
        optimizer = make_optimizer(lrs=(0.5, ))
        scheduler = InverseDecayLR(optimizer, **kwargs)
        assert run(optimizer, scheduler, 5) == [0.5] * 6


def test_registered_in_mmpose_not_at_mmengine_root():
    assert PARAM_SCHEDULERS.get('InverseDecayLR') is InverseDecayLR
    assert PARAM_SCHEDULERS.get('InverseDecayParamScheduler') is InverseDecayParamScheduler
    assert 'InverseDecayLR' not in MMENGINE_PARAM_SCHEDULERS.module_dict


def test_builds_per_wrapper_of_an_optim_wrapper_dict_like_the_runner():
    """mmengine's Runner.build_param_scheduler builds the config once per wrapper of the dict,
    through the root registry under the default scope, with these default_args."""
    wrappers = OptimWrapperDict(
        generator=OptimWrapper(make_optimizer(lrs=(0.01, ))),
        head=OptimWrapper(make_optimizer(lrs=(0.1, ))))
    cfg = dict(type='InverseDecayLR', gamma=0.1, power=0.75, end=100)
    with DefaultScope.overwrite_default_scope('mmpose'):
        schedulers = {
            name: MMENGINE_PARAM_SCHEDULERS.build(
                cfg, default_args=dict(optimizer=wrapper, epoch_length=7))
            for name, wrapper in wrappers.items()
        }
    assert all(type(s) is InverseDecayLR for s in schedulers.values())
    assert schedulers['head'].optimizer is wrappers['head']
    for _ in range(10):
        for name, wrapper in wrappers.items():
            wrapper.step()
            schedulers[name].step()
    assert wrappers.get_lr() == {
        'generator.lr': [pytest.approx(0.01 * POW_2, rel=1e-12)],
        'head.lr': [pytest.approx(0.1 * POW_2, rel=1e-12)],
    }


def test_convert_to_iter_based_keeps_the_epoch_curve():
    """gamma per epoch 0.1 over 10-iteration epochs: epoch 10 (iteration 100) gives 2**-0.75."""
    optimizer = make_optimizer(lrs=(1.0, ))
    with DefaultScope.overwrite_default_scope('mmpose'):
        scheduler = MMENGINE_PARAM_SCHEDULERS.build(
            dict(type='InverseDecayLR', gamma=0.1, by_epoch=True, begin=0, end=20,
                 convert_to_iter_based=True),
            default_args=dict(optimizer=optimizer, epoch_length=10))
    assert (scheduler.by_epoch, scheduler.end) == (False, 200)
    assert scheduler.gamma == pytest.approx(0.01)
    lrs = run(optimizer, scheduler, 100)
    assert lrs[100] == pytest.approx(POW_2, rel=1e-12)
    assert lrs[1] == pytest.approx(1.01**-0.75, rel=1e-12)
