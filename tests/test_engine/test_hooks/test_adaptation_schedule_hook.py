"""AdaptationScheduleHook: the warm-start schedule against its formula, what it sets on the model,
and the one keypoint-count check of datasets against heads."""
import math
from types import SimpleNamespace

import pytest
from mmengine.logging import MessageHub

import mmpose_regda  # noqa: F401
from mmengine.registry import init_default_scope

from mmpose.registry import HOOKS
from mmpose_regda.datasets import DomainAdaptationDataset
from mmpose_regda.engine.hooks import AdaptationScheduleHook
from tiny_regda import build_tiny_regda


def reference_coeff(i, lo=0., hi=0.1, alpha=1., max_iters=1000):
    return 2.0 * (hi - lo) / (1.0 + math.exp(-alpha * i / max_iters)) - (hi - lo) + lo


@pytest.mark.parametrize('iteration', [0, 1, 500, 1000, 5000, 100000])
def test_warm_start_follows_the_reference_formula(iteration):
    assert AdaptationScheduleHook().grad_scale_at(iteration) == pytest.approx(
        reference_coeff(iteration))


def test_warm_start_values_by_hand():
    hook = AdaptationScheduleHook()
    assert hook.grad_scale_at(0) == 0.
    # 0.2 / (1 + e^-1) - 0.1
    assert hook.grad_scale_at(1000) == pytest.approx(0.2 / (1 + math.exp(-1)) - 0.1)
    assert hook.grad_scale_at(10**7) == pytest.approx(0.1)


def test_warmup_shifts_the_schedule_and_constant_scales():
    hook = AdaptationScheduleHook(warmup_iters=100)
    assert hook.grad_scale_at(50) == 0. and hook.grad_scale_at(100) == 0.
    assert hook.grad_scale_at(1100) == pytest.approx(reference_coeff(1000))
    assert AdaptationScheduleHook(grad_scale=0.3).grad_scale_at(7) == 0.3
    assert AdaptationScheduleHook(grad_scale=None).grad_scale_at(7) == 1.


def fake_runner(model, iteration, num_keypoints=4, val_keypoints=4):
    loader = lambda k: SimpleNamespace(  # noqa: E731
        dataset=SimpleNamespace(metainfo=dict(dataset_name='toy', num_keypoints=k)))
    return SimpleNamespace(model=model, iter=iteration, train_dataloader=loader(num_keypoints),
                           _val_loop=SimpleNamespace(dataloader=loader(val_keypoints)),
                           message_hub=MessageHub.get_instance('regda_hook_test'))


def test_sets_warmup_state_and_scale_on_the_model_and_logs_it():
    model = build_tiny_regda()
    hook = AdaptationScheduleHook(warmup_iters=3, grad_scale=dict(hi=0.2, max_iters=10))
    runner = fake_runner(model, 2)
    hook.before_train(runner)
    hook.before_train_iter(runner, 0)
    assert model.adaptation_enabled is False and model.adaptation_grad_scale == 0.
    runner.iter = 13
    hook.before_train_iter(runner, 0)
    expected = reference_coeff(10, hi=0.2, max_iters=10)
    assert model.adaptation_enabled is True
    assert model.adaptation_grad_scale == pytest.approx(expected)
    assert runner.message_hub.get_scalar('train/adaptation_grad_scale').current() == pytest.approx(
        expected)


def test_bad_settings_and_models():
    with pytest.raises(ValueError, match='warmup_iters must be >= 0'):
        AdaptationScheduleHook(warmup_iters=-1)
    with pytest.raises(ValueError, match='unknown grad_scale keys'):
        AdaptationScheduleHook(grad_scale=dict(high=0.1))
    with pytest.raises(ValueError, match='max_iters must be > 0'):
        AdaptationScheduleHook(grad_scale=dict(max_iters=0))
    with pytest.raises(TypeError, match='drives an adaptation model'):
        AdaptationScheduleHook().before_train(fake_runner(object(), 0))


@pytest.mark.parametrize('train,val,split', [(21, 4, 'train'), (4, 16, 'val')])
def test_keypoint_count_mismatch_fails_before_training(train, val, split):
    runner = fake_runner(build_tiny_regda(), 0, num_keypoints=train, val_keypoints=val)
    wrong = train if split == 'train' else val
    with pytest.raises(ValueError, match=rf'model.head.out_channels has 4, '
                       rf'model.adv_head.out_channels has 4, .*the {split} dataset \(toy\) has '
                       rf'{wrong}\b.*; set the heads\' out_channels'):
        AdaptationScheduleHook().before_train(runner)


class Domain:
    def __init__(self, name, num_keypoints):
        self.metainfo = dict(dataset_name=name, num_keypoints=num_keypoints)

    def __len__(self):
        return 3


def test_both_domains_of_a_two_domain_dataset_are_checked():
    runner = fake_runner(build_tiny_regda(), 0)
    runner.train_dataloader.dataset = DomainAdaptationDataset(Domain('rhd', 4), Domain('h36m', 16))
    with pytest.raises(ValueError, match=r'the train source dataset \(rhd\) has 4, the train '
                       r'target dataset \(h36m\) has 16'):
        AdaptationScheduleHook().before_train(runner)
    runner.train_dataloader.dataset = DomainAdaptationDataset(Domain('rhd', 4), Domain('fh', 4))
    AdaptationScheduleHook().before_train(runner)  # agreeing counts pass


def test_the_first_configs_names_build_the_same_hook_with_a_deprecation_naming_the_new():
    init_default_scope('mmpose')
    with pytest.warns(DeprecationWarning, match="type='AdaptationScheduleHook'"):
        assert isinstance(HOOKS.build(dict(type='RegDAHook')), AdaptationScheduleHook)
    with pytest.warns(DeprecationWarning, match='grad_scale_at'):
        assert AdaptationScheduleHook().adv_grad_scale(0) == 0.
    with pytest.warns(DeprecationWarning, match='model.adaptation_grad_scale'):
        model = build_tiny_regda(type='MCDPoseEstimator', adv_grad_scale=0.5)
    assert model.adaptation_grad_scale == 0.5
    with pytest.warns(DeprecationWarning, match='use adaptation_grad_scale'):
        model.adv_grad_scale = 0.25
    assert model.adaptation_grad_scale == 0.25


def named_domain(name, metainfo_file):
    """A dataset stand-in with the keypoint names of one of mmpose's metainfo files."""
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    domain = Domain(name, 21)
    domain.metainfo = dict(parse_pose_metainfo(dict(from_file=metainfo_file)),
                           dataset_name=name)
    return domain


def test_the_same_keypoints_in_another_order_stop_with_both_orders_named():
    """RHD's files go tip to base, OneHand10K's base to tip: the same 21 names."""
    runner = fake_runner(build_tiny_regda(type='RegDAPoseEstimator', head=dict(
        type='KLHeatmapHead', in_channels=8, out_channels=21, deconv_out_channels=None,
        conv_out_channels=(8, ), conv_kernel_sizes=(3, ))), 0)
    rhd = named_domain('rhd2d', 'configs/_base_/datasets/rhd2d.py')
    onehand = named_domain('onehand10k', 'configs/_base_/datasets/onehand10k.py')
    runner.train_dataloader.dataset = DomainAdaptationDataset(rhd, onehand)
    runner._val_loop.dataloader.dataset = onehand
    with pytest.raises(ValueError, match=r'(?s)the train source dataset \(rhd2d\) and the train '
                       r'target dataset \(onehand10k\) have the same keypoints in another order:'
                       r'\n  .*: wrist, thumb4, thumb3, .*\n  .*: wrist, thumb1, thumb2, .*'
                       r"keypoint_order='rhd'"):
        AdaptationScheduleHook().before_train(runner)
    # other names, same count: both lists and what differs
    renamed = named_domain('onehand10k', 'configs/_base_/datasets/onehand10k.py')
    renamed.metainfo['keypoint_id2name'] = {
        i: f'point{i}' if i else 'wrist' for i in renamed.metainfo['keypoint_id2name']}
    runner.train_dataloader.dataset = DomainAdaptationDataset(onehand, onehand)
    runner._val_loop.dataloader.dataset = renamed
    with pytest.raises(ValueError, match=r'(?s)name different keypoints:.*only in the first: '
                       r'thumb1, .*only in the second: point1, '):
        AdaptationScheduleHook().before_train(runner)
    runner._val_loop.dataloader.dataset = onehand
    AdaptationScheduleHook().before_train(runner)  # one order everywhere passes


def test_a_single_optimizer_or_a_plain_ddp_wrapper_stops_before_any_weight_is_loaded():
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from tiny_regda import build_optim_wrapper as part_optim_wrapper
    model = build_tiny_regda()
    runner = fake_runner(model, 0)
    runner.cfg = Config(dict(model_wrapper_cfg=dict(type='MMSeparateDistributedDataParallel')))
    runner.optim_wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.1)))
    with pytest.raises(TypeError, match=r"optim_wrapper: RegDAPoseEstimator trains one optimizer "
                       r"per part \(generator, head, adv_head\), but the runner built a single "
                       r"OptimWrapper. Set optim_wrapper=dict\(_delete_=True, "
                       r"constructor='PartOptimWrapperConstructor'"):
        AdaptationScheduleHook().before_run(runner)
    runner.optim_wrapper = part_optim_wrapper(model)
    for wrapper_cfg, shown in ((None, 'MMDistributedDataParallel'),
                               (dict(type='MMDistributedDataParallel'),
                                'MMDistributedDataParallel')):
        runner.cfg = Config(dict(model_wrapper_cfg=wrapper_cfg))
        with pytest.raises(TypeError, match=rf"model_wrapper_cfg: RegDAPoseEstimator runs each "
                           rf"part through its own DDP module .* wrapped by {shown}.*Set "
                           r"model_wrapper_cfg=dict\(type='MMSeparateDistributedDataParallel'\)"):
            AdaptationScheduleHook().before_run(runner)
    runner.cfg = Config(dict(model_wrapper_cfg=dict(type='RegDADistributedDataParallel')))
    AdaptationScheduleHook().before_run(runner)  # the old name of the same wrapper passes
    from mmengine.registry import MODEL_WRAPPERS
    with pytest.warns(DeprecationWarning, match="type='MMSeparateDistributedDataParallel'"):
        try:
            MODEL_WRAPPERS.build(dict(type='RegDADistributedDataParallel', module=model))
        except (RuntimeError, ValueError):
            pass  # no process group here: the warning comes first


def test_a_warm_start_for_a_model_that_ignores_it_is_refused():
    runner = fake_runner(build_tiny_regda(type='MCDPoseEstimator'), 0)
    with pytest.raises(ValueError, match=r'MCDPoseEstimator sends psi its full gradient and '
                       r'ignores adaptation_grad_scale.*give it grad_scale=None'):
        AdaptationScheduleHook().before_train(runner)
    AdaptationScheduleHook(grad_scale=None).before_train(runner)
