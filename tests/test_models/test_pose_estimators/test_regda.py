"""RegDAPoseEstimator.train_step: what each objective updates, where gradients go, and that target
labels never matter."""
import copy

import pytest
import torch

import mmpose_regda  # noqa: F401
from tiny_regda import (build_optim_wrapper, build_tiny_regda, changed_parts,
                        make_two_domain_batch, parameters_by_part)


def record_objectives(model):
    """Wrap model._update to note which parts each objective changed."""
    record = {}
    original = model._update

    def spy(objective, losses, optim_wrapper, parts):
        before = parameters_by_part(model)
        out = original(objective, losses, optim_wrapper, parts)
        record[objective.split(' (')[0]] = changed_parts(before, parameters_by_part(model))
        return out

    model._update = spy
    return record


def test_each_objective_updates_only_its_parts():
    model = build_tiny_regda()
    record = record_objectives(model)
    log_vars = model.train_step(make_two_domain_batch(), build_optim_wrapper(model))
    assert record == {
        'Objective 1': {'generator', 'head', 'adv_head'},
        'Objective 2': {'adv_head'},
        'Objective 3': {'generator'},
    }
    assert {'loss_source', 'loss_source_disparity', 'loss_ground_false', 'loss_ground_truth',
            'disparity_source', 'disparity_target', 'acc_pose'} <= set(log_vars)


def grads_by_part(model):
    out = {}
    for part, params in parameters_by_part(model).items():
        grads = [p.grad for n, p in model.named_parameters() if n in params]
        out[part] = any(g is not None and g.abs().sum() > 0 for g in grads)
    return out


def target_inputs(model, batch):
    return model.data_preprocessor(batch['target'], True)['inputs']


def test_objective_2_gradients_reach_only_adv_head():
    model = build_tiny_regda()
    batch = make_two_domain_batch()
    losses = model.objective_2(target_inputs(model, batch))
    losses['loss_ground_false'].backward()
    assert grads_by_part(model) == dict(generator=False, head=False, adv_head=True)


def test_objective_3_gradients_reach_only_generator():
    model = build_tiny_regda()
    batch = make_two_domain_batch()
    model.objective_2(target_inputs(model, batch))
    model.objective_3()['loss_ground_truth'].backward()
    assert grads_by_part(model) == dict(generator=True, head=False, adv_head=False)
    assert all(p.requires_grad for p in model.adv_head.parameters())  # unfrozen again


def test_gradient_scale_multiplies_what_f_prime_sends_into_psi():
    batch = make_two_domain_batch()
    grads = {}
    for scale in (1., 0.25, 0.):
        model = build_tiny_regda(adv_grad_scale=scale)
        model.objective_2(target_inputs(model, batch))
        model.objective_3()['loss_ground_truth'].backward()
        grads[scale] = model.backbone.layers[0].weight.grad.clone()
    torch.testing.assert_close(grads[0.25], 0.25 * grads[1.])
    assert grads[0.].abs().sum() == 0


def corrupt_target_labels(batch, seed):
    generator = torch.Generator().manual_seed(seed)
    for sample in batch['target']['data_samples']:
        sample.gt_fields.heatmaps = torch.rand(sample.gt_fields.heatmaps.shape,
                                               generator=generator) * 100
        weights = sample.gt_instance_labels.keypoint_weights
        sample.gt_instance_labels.keypoint_weights = torch.rand(weights.shape,
                                                                generator=generator)
        sample.gt_instances.keypoints = sample.gt_instances.keypoints * -7 + 3
    return batch


@pytest.mark.parametrize('schedule', ['sequential', 'joint'])
def test_target_labels_never_reach_a_loss(schedule):
    model_a = build_tiny_regda(objective_schedule=schedule)
    model_b = copy.deepcopy(model_a)
    batch_a = make_two_domain_batch(seed=1)
    batch_b = corrupt_target_labels(make_two_domain_batch(seed=1), seed=2)
    log_a = model_a.train_step(batch_a, build_optim_wrapper(model_a, momentum=0.9))
    log_b = model_b.train_step(batch_b, build_optim_wrapper(model_b, momentum=0.9))
    for key in log_a:
        assert torch.equal(log_a[key], log_b[key]), key
    state_b = model_b.state_dict()
    for name, value in model_a.state_dict().items():
        assert torch.equal(value, state_b[name]), name


def test_warmup_trains_objective_1_only():
    model = build_tiny_regda(adaptation_enabled=False)
    record = record_objectives(model)
    log_vars = model.train_step(make_two_domain_batch(), build_optim_wrapper(model))
    assert list(record) == ['Objective 1']
    assert 'loss_ground_false' not in log_vars and 'loss_ground_truth' not in log_vars


def test_non_finite_loss_stops_before_the_update_and_names_the_term():
    model = build_tiny_regda()
    batch = make_two_domain_batch()
    batch['target']['inputs'] = [torch.full((3, 32, 32), float('nan'))
                                 for _ in batch['target']['inputs']]
    record = record_objectives(model)
    with pytest.raises(FloatingPointError, match=r'Objective 2.*`loss_ground_false` is nan'):
        model.train_step(batch, build_optim_wrapper(model))
    # Objective 1 (finite, source) was applied; Objective 2 stopped before its update
    assert record == {'Objective 1': {'generator', 'head', 'adv_head'}}
    for name, param in model.named_parameters():
        assert torch.isfinite(param).all(), name


def test_joint_schedule_gives_each_part_exactly_its_objectives_gradients():
    """One backward of the joint objectives == the sum of each objective's own gradients."""
    batch = make_two_domain_batch(batch_size=3)
    # psi without batch norm: the joint pass normalises source and target together otherwise
    model = build_tiny_regda(backbone=dict(type='TinyBackbone', with_bn=False),
                             objective_schedule='joint', adv_grad_scale=0.5)
    separate = copy.deepcopy(model)
    source = model.data_preprocessor(batch['source'], True)
    inputs = torch.cat((source['inputs'], target_inputs(model, batch)))
    losses = model.joint_objectives(inputs, source['data_samples'])
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()

    expected = {n: torch.zeros_like(p) for n, p in separate.named_parameters()}
    for run in ('objective_1', 'objective_2', 'objective_3'):
        separate.zero_grad()
        if run == 'objective_1':
            out = separate.objective_1(source['inputs'], source['data_samples'])
        elif run == 'objective_2':
            out = separate.objective_2(target_inputs(separate, batch))
        else:
            out = separate.objective_3()
        sum(v for k, v in out.items() if k.startswith('loss')).backward(
            retain_graph=run == 'objective_2')
        for n, p in separate.named_parameters():
            if p.grad is not None:
                expected[n] += p.grad
    for n, p in model.named_parameters():
        torch.testing.assert_close(p.grad, expected[n], msg=n)


def test_optim_parts_and_predict_uses_f():
    model = build_tiny_regda()
    assert model.optim_parts() == dict(generator=['backbone'], head=['head'],
                                       adv_head=['adv_head'])
    model.eval()
    batch = make_two_domain_batch()
    data = model.data_preprocessor(batch['source'], False)
    # f' disagreeing wildly must not change the predictions
    preds = model.predict(data['inputs'], data['data_samples'])
    torch.nn.init.constant_(model.adv_head.final_layer.weight, 5.)
    preds_again = model.predict(data['inputs'], data['data_samples'])
    for a, b in zip(preds, preds_again):
        assert (a.pred_instances.keypoints == b.pred_instances.keypoints).all()


def test_bad_configuration():
    with pytest.raises(ValueError, match='objective_schedule'):
        build_tiny_regda(objective_schedule='parallel')
    model = build_tiny_regda()
    with pytest.raises(RuntimeError, match='call objective_2 first'):
        model.objective_3()
