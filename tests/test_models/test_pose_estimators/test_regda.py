"""RegDAPoseEstimator.train_step: what each objective updates, where gradients go, and that target
labels never matter."""
import copy

import pytest
import torch

import mmpose_regda  # noqa: F401
from tiny_regda import (assert_target_labels_never_matter, build_optim_wrapper, build_tiny_regda,
                        grads_by_part, make_two_domain_batch, record_objectives)


def test_each_objective_updates_only_its_parts(monkeypatch):
    model = build_tiny_regda()
    record = record_objectives(model, monkeypatch)
    log_vars = model.train_step(make_two_domain_batch(), build_optim_wrapper(model))
    assert record == {
        'Objective 1': {'generator', 'head', 'adv_head'},
        'Objective 2': {'adv_head'},
        'Objective 3': {'generator'},
    }
    assert {'loss_source', 'loss_source_disparity', 'loss_ground_false', 'loss_ground_truth',
            'disparity_source', 'disparity_target', 'acc_pose'} <= set(log_vars)


def target_inputs(model, batch):
    return model.data_preprocessor(batch['target'], True)['inputs']


def target_pass(model, batch):
    """What train_step hands Objectives 2 and 3: psi's target features, f's target logits and
    their pseudo targets."""
    feats = model.extract_feat(target_inputs(model, batch))
    with torch.no_grad():
        logits = model.head(feats)
    return feats, logits, model.ground_false(logits)


def test_objective_2_gradients_reach_only_adv_head():
    model = build_tiny_regda()
    feats, logits, pseudo = target_pass(model, make_two_domain_batch())
    model.objective_2(feats, logits, pseudo)['loss_ground_false'].backward()
    assert grads_by_part(model) == dict(generator=False, head=False, adv_head=True)


def test_objective_3_gradients_reach_only_generator():
    model = build_tiny_regda()
    feats, _, pseudo = target_pass(model, make_two_domain_batch())
    model.objective_3(feats, pseudo)['loss_ground_truth'].backward()
    assert grads_by_part(model) == dict(generator=True, head=False, adv_head=False)
    assert all(p.requires_grad for p in model.adv_head.parameters())  # unfrozen again


def test_objectives_2_and_3_share_one_target_pass_of_psi(monkeypatch):
    """psi runs once on the source and once on the target per iteration."""
    model = build_tiny_regda()
    calls = []
    original = model.backbone.forward
    monkeypatch.setattr(model.backbone, 'forward', lambda x: calls.append(len(x)) or original(x))
    model.train_step(make_two_domain_batch(batch_size=3), build_optim_wrapper(model))
    assert calls == [3, 3]


def test_gradient_scale_multiplies_what_f_prime_sends_into_psi():
    batch = make_two_domain_batch()
    grads = {}
    for scale in (1., 0.25, 0.):
        model = build_tiny_regda(adaptation_grad_scale=scale)
        feats, _, pseudo = target_pass(model, batch)
        model.objective_3(feats, pseudo)['loss_ground_truth'].backward()
        grads[scale] = model.backbone.layers[0].weight.grad.clone()
    torch.testing.assert_close(grads[0.25], 0.25 * grads[1.])
    assert grads[0.].abs().sum() == 0


def test_target_labels_never_reach_a_loss():
    assert_target_labels_never_matter(build_tiny_regda)


def test_warmup_trains_objective_1_only(monkeypatch):
    model = build_tiny_regda(adaptation_enabled=False)
    record = record_objectives(model, monkeypatch)
    log_vars = model.train_step(make_two_domain_batch(), build_optim_wrapper(model))
    assert list(record) == ['Objective 1']
    assert 'loss_ground_false' not in log_vars and 'loss_ground_truth' not in log_vars


def test_non_finite_loss_stops_before_the_update_and_names_the_term(monkeypatch):
    model = build_tiny_regda()
    batch = make_two_domain_batch()
    batch['target']['inputs'] = [torch.full((3, 32, 32), float('nan'))
                                 for _ in batch['target']['inputs']]
    record = record_objectives(model, monkeypatch)
    with pytest.raises(FloatingPointError, match=r'Objective 2.*`loss_ground_false` is nan'):
        model.train_step(batch, build_optim_wrapper(model))
    # Objective 1 (finite, source) was applied; Objective 2 stopped before its update
    assert record == {'Objective 1': {'generator', 'head', 'adv_head'}}
    for name, param in model.named_parameters():
        assert torch.isfinite(param).all(), name


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


# ---------------------------------------------------------------- Table 3's games


def target_game_losses(model, batch):
    """Objective 2's and 3's losses, with the adv_head logits and pseudo targets they used."""
    feats, logits, pseudo = target_pass(model, batch)
    objective_2 = model.objective_2(feats, logits, pseudo)
    adv_logits = model.adv_head(feats)
    objective_3 = model.objective_3(feats, pseudo)
    return objective_2, objective_3, adv_logits, pseudo


@pytest.mark.parametrize('game, names', [
    ('regda', ('loss_ground_false', 'loss_ground_truth')),
    ('dd', ('loss_ground_truth_negated', 'loss_ground_truth')),
    ('ground_false_minimax', ('loss_ground_false', 'loss_ground_false_negated')),
])
def test_each_game_minimises_its_table_3_cells(game, names):
    """Objective 2 / 3 losses equal +-eta * KL(P || softmax f') with P as Table 3 says."""
    adv_objective, generator_objective = model_cls().GAMES[game]
    model = build_tiny_regda(trade_off=0.5, adv_head_objective=adv_objective,
                             generator_objective=generator_objective)
    objective_2, objective_3, adv_logits, pseudo = target_game_losses(
        model, make_two_domain_batch())
    log_softmax = adv_logits.flatten(2).log_softmax(-1)

    def kl(target):  # Eq. 8 by hand, mean over B * K
        p = target.flatten(2)
        return (p * (p.clamp_min(1e-30).log() - log_softmax)).sum(-1).mean()

    for losses, objective, name in ((objective_2, adv_objective, names[0]),
                                    (objective_3, generator_objective, names[1])):
        target = pseudo.ground_false if objective.endswith('L_F') else pseudo.ground_truth
        sign = -1 if objective.startswith('max') else 1
        assert [n for n in losses if n.startswith('loss')] == [name]
        torch.testing.assert_close(losses[name], sign * 0.5 * kl(target), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('game', ['dd', 'ground_false_minimax'])
def test_each_game_updates_the_same_parts_as_regda(game, monkeypatch):
    adv_objective, generator_objective = model_cls().GAMES[game]
    model = build_tiny_regda(adv_head_objective=adv_objective,
                             generator_objective=generator_objective)
    record = record_objectives(model, monkeypatch)
    model.train_step(make_two_domain_batch(), build_optim_wrapper(model))
    assert record == {
        'Objective 1': {'generator', 'head', 'adv_head'},
        'Objective 2': {'adv_head'},
        'Objective 3': {'generator'},
    }


def test_maximising_reverses_the_update_of_minimising():
    """f' maximising L_T (DD) takes the opposite SGD step of f' minimising L_T, from the same
    state and batch (Objective 2 runs on detached features, so only f' moves)."""
    batch = make_two_domain_batch()
    steps = {}
    for adv_objective, generator_objective in (('max L_T', 'min L_T'),
                                               ('min L_T', 'max L_T')):
        model = build_tiny_regda(adv_head_objective=adv_objective,
                                 generator_objective=generator_objective)
        before = {n: p.detach().clone() for n, p in model.adv_head.named_parameters()}
        optim_wrapper = build_optim_wrapper(model)
        optim_wrapper.start_iteration()
        model.update_parts(optim_wrapper.objective('objective_2', parts=('adv_head', )),
                           model.objective_2(*target_pass(model, batch)))
        steps[adv_objective] = {n: p.detach() - before[n]
                                for n, p in model.adv_head.named_parameters()}
    moved = False
    for name, step in steps['max L_T'].items():
        torch.testing.assert_close(step, -steps['min L_T'][name], rtol=1e-4, atol=1e-7)
        moved |= bool(step.abs().sum() > 0)
    assert moved


@pytest.mark.parametrize('adv_objective, generator_objective, message', [
    ('maximise L_T', 'min L_T', 'adv_head_objective must be one of'),
    ('min L_F', 'min L_X', 'generator_objective must be one of'),
    ('min L_T', 'min L_T', 'no adversarial game'),
])
def test_bad_game_is_refused_with_the_field(adv_objective, generator_objective, message):
    with pytest.raises(ValueError, match=message):
        build_tiny_regda(adv_head_objective=adv_objective,
                         generator_objective=generator_objective)


def model_cls():
    from mmpose_regda.models import RegDAPoseEstimator
    return RegDAPoseEstimator


def test_adv_head_predictions_are_f_prime_decoded_like_f():
    """With test_cfg.adv_head_predictions, f' is decoded into adv_pred_instances; f's
    predictions are unchanged, and equal f''s once f' carries f's weights."""
    batch = make_two_domain_batch()
    model = build_tiny_regda().eval()
    plain = model.test_step(copy.deepcopy(batch['source']))
    model.test_cfg['adv_head_predictions'] = True
    both = model.test_step(copy.deepcopy(batch['source']))
    for a, b in zip(plain, both):
        torch.testing.assert_close(torch.as_tensor(a.pred_instances.keypoints),
                                   torch.as_tensor(b.pred_instances.keypoints))
    assert any(not torch.allclose(torch.as_tensor(b.pred_instances.keypoints),
                                  torch.as_tensor(b.adv_pred_instances.keypoints))
               for b in both)
    model.adv_head.load_state_dict(model.head.state_dict())
    for sample in model.test_step(copy.deepcopy(batch['source'])):
        torch.testing.assert_close(torch.as_tensor(sample.pred_instances.keypoints),
                                   torch.as_tensor(sample.adv_pred_instances.keypoints))
