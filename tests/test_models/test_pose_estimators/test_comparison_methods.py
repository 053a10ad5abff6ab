"""The comparison rows' estimators: MCD's three steps and DANN's / DAN's single update, what each
updates, what their losses are, and that target labels never matter."""
import pytest
import torch

import mmpose_regda  # noqa: F401
from mmpose_regda.models.utils import heatmap_discrepancy
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
        'Step A': {'generator', 'head', 'adv_head'},  # source, everything
        'Step B': {'head', 'adv_head'},  # the heads disagree on the target
        'Step C': {'generator'},  # psi makes them agree
    }
    assert {'loss_source', 'loss_source_f2', 'loss_heads_source', 'loss_heads_source_f2',
            'loss_discrepancy_negated', 'loss_discrepancy', 'discrepancy_target'} <= set(log_vars)


def test_mcd_step_b_is_the_heads_source_losses_minus_the_discrepancy_by_hand():
    model = build('mcd', trade_off=0.5)
    batch = make_two_domain_batch()
    source = model.data_preprocessor(batch['source'], True)
    target_feats = model.extract_feat(model.data_preprocessor(batch['target'], True)['inputs'])
    with torch.no_grad():  # as train_step: psi has changed since step A
        source_feats = model.extract_feat(source['inputs'])
    step_b = model.step_b(source_feats, source['data_samples'], target_feats)
    discrepancy = heatmap_discrepancy(model.head(target_feats), model.adv_head(target_feats))
    torch.testing.assert_close(step_b['loss_discrepancy_negated'], -0.5 * discrepancy)
    # the heads' source terms are each head's L_T on the source labels
    for name, head in (('loss_heads_source', model.head),
                       ('loss_heads_source_f2', model.adv_head)):
        expected = head.loss(source_feats, source['data_samples'])['loss_kpt']
        torch.testing.assert_close(step_b[name], expected)
    model.zero_grad()
    sum(v for k, v in step_b.items() if k.startswith('loss')).backward()
    # psi learns nothing from step B, not even through the (not detached) target features
    assert grads_by_part(model) == dict(generator=False, head=True, adv_head=True)


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
    """The warm start of the reversal coefficient (AdaptationScheduleHook) scales only what
    reaches psi."""
    batch = make_two_domain_batch(batch_size=3)
    grads = {}
    for scale in (0., 1.):
        model = build('dann', adaptation_grad_scale=scale)
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
