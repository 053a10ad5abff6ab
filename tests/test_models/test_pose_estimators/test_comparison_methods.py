"""The comparison rows' estimators: MCD's three steps and DANN's / DAN's single update, what each
updates, what their losses are, and that target labels never matter."""
import pytest
import torch

import mmpose_regda  # noqa: F401
from mmpose_regda.models.pose_estimators import heatmap_discrepancy
from tiny_regda import (assert_target_labels_never_matter, build_optim_wrapper, build_tiny_regda,
                        grads_by_part, make_two_domain_batch, record_objectives)

DANN = dict(type='FeatureAlignmentPoseEstimator',
            alignment=dict(type='DomainAdversarialLoss', in_channels=8, hidden_channels=16))
DAN = dict(type='FeatureAlignmentPoseEstimator', alignment=dict(type='MultiKernelMMDLoss'))


def build(method, **overrides):
    configs = dict(mcd=dict(type='MCDPoseEstimator'), dann=DANN, dan=DAN)
    return build_tiny_regda(**configs[method], **overrides)


def test_mcd_steps_update_the_parts_of_maximum_classifier_discrepancy(monkeypatch):
    model = build('mcd')
    record = record_objectives(model, monkeypatch)
    log_vars = model.train_step(make_two_domain_batch(), build_optim_wrapper(model))
    assert record == {
        'Objective 1': {'generator', 'head', 'adv_head'},  # step A: source, everything
        'Objective 2': {'head', 'adv_head'},  # step B: the heads disagree on the target
        'Objective 3': {'generator'},  # step C: psi makes them agree
    }
    assert {'loss_source', 'loss_source_f2', 'loss_heads_source', 'loss_heads_source_f2',
            'loss_discrepancy_negated', 'loss_discrepancy', 'discrepancy_target'} <= set(log_vars)


def test_mcd_objectives_are_the_discrepancy_by_hand():
    model = build('mcd', trade_off=0.5)
    batch = make_two_domain_batch()
    source = model.data_preprocessor(batch['source'], True)
    target = model.data_preprocessor(batch['target'], True)['inputs']
    model.objective_1(source['inputs'], source['data_samples'])
    objective_2 = model.objective_2(target)
    feats = model.extract_feat(target)
    discrepancy = heatmap_discrepancy(model.head.forward(feats), model.adv_head.forward(feats))
    torch.testing.assert_close(objective_2['loss_discrepancy_negated'], -0.5 * discrepancy)
    # the heads' source terms are each head's L_T on the source labels
    source_feats = model.extract_feat(source['inputs'])
    for name, head in (('loss_heads_source', model.head),
                       ('loss_heads_source_f2', model.adv_head)):
        expected = head.loss(source_feats, source['data_samples'])['loss_kpt']
        torch.testing.assert_close(objective_2[name], expected)
    model.zero_grad()
    objective_3 = model.objective_3()
    torch.testing.assert_close(objective_3['loss_discrepancy'], 0.5 * discrepancy)
    objective_3['loss_discrepancy'].backward()
    assert grads_by_part(model) == dict(generator=True, head=False, adv_head=False)


def test_mcd_objective_2_needs_objective_1_first():
    model = build('mcd')
    with pytest.raises(RuntimeError, match='call objective_1 first'):
        model.objective_2(torch.zeros(2, 3, 32, 32))


@pytest.mark.parametrize('method, parts', [('dann', {'generator', 'head', 'alignment'}),
                                           ('dan', {'generator', 'head'})])
def test_feature_alignment_is_one_update_of_every_part(method, parts, monkeypatch):
    model = build(method)
    assert set(model.optim_parts()) == parts  # DAN's MMD has no parameters: no part
    record = record_objectives(model, monkeypatch)
    log_vars = model.train_step(make_two_domain_batch(batch_size=3), build_optim_wrapper(model))
    assert list(record.values()) == [parts]
    assert ('loss_domain' if method == 'dann' else 'loss_mmd') in log_vars


def test_dann_psi_gets_no_alignment_gradient_at_scale_zero_while_the_discriminator_learns():
    """The warm start of the reversal coefficient (RegDAHook) scales only what reaches psi."""
    batch = make_two_domain_batch(batch_size=3)
    grads = {}
    for scale in (0., 1.):
        model = build('dann', adv_grad_scale=scale)
        inputs = torch.cat((model.data_preprocessor(batch['source'], True)['inputs'],
                            model.data_preprocessor(batch['target'], True)['inputs']))
        losses = model.aligned_loss(inputs, batch['source']['data_samples'])
        losses['loss_domain'].backward()
        grads[scale] = (model.backbone.layers[0].weight.grad,
                        model.alignment.discriminator[0].weight.grad)
    assert grads[0.][0] is None or grads[0.][0].abs().sum() == 0
    assert grads[1.][0].abs().sum() > 0
    torch.testing.assert_close(grads[0.][1], grads[1.][1])


def test_feature_alignment_warmup_trains_the_source_loss_only(monkeypatch):
    model = build('dann', adaptation_enabled=False)
    record = record_objectives(model, monkeypatch)
    log_vars = model.train_step(make_two_domain_batch(batch_size=3), build_optim_wrapper(model))
    assert list(record.values()) == [{'generator', 'head'}]
    assert 'loss_domain' not in log_vars


@pytest.mark.parametrize('method', ['mcd', 'dann', 'dan'])
def test_target_labels_never_reach_a_loss(method):
    assert_target_labels_never_matter(lambda: build(method), batch_size=3)
