"""PartOptimWrapperDict: every update of an adaptation method through the parts' wrappers, with
mmengine's semantics for accumulation and clipping, mixed precision with one loss scale per
objective shared by its parts, and the non-finite stop."""
import copy

import pytest
import torch
from mmengine.logging import MessageHub

import mmpose_regda  # noqa: F401
from tiny_regda import (HEATMAP_SIZE, NUM_KEYPOINTS, build_optim_wrapper, build_tiny_regda,
                        make_two_domain_batch, parameters_by_part)

LR = 0.1


def without_batch_norm(**overrides):
    """A tiny RegDA model without batch norm, whose gradients add up over sub-batches."""
    head = dict(type='KLHeatmapHead', in_channels=8, out_channels=NUM_KEYPOINTS,
                deconv_out_channels=None, conv_out_channels=None, conv_kernel_sizes=None,
                decoder=dict(type='MSRAHeatmap', input_size=(32, 32),
                             heatmap_size=(HEATMAP_SIZE, HEATMAP_SIZE), sigma=1))
    return build_tiny_regda(backbone=dict(type='TinyBackbone', with_bn=False), head=head,
                            adaptation_grad_scale=0.5, **overrides)


def concatenated(*batches):
    return {domain: {key: sum((b[domain][key] for b in batches), [])
                     for key in ('inputs', 'data_samples')}
            for domain in ('source', 'target')}


def assert_same_parameters(model_a, model_b, **tolerance):
    params_b = dict(model_b.named_parameters())
    for name, param in model_a.named_parameters():
        torch.testing.assert_close(param, params_b[name], msg=name, **tolerance)


def flat(model):
    return {part: torch.cat([p.flatten() for p in params.values()])
            for part, params in parameters_by_part(model).items()}


# ---------------------------------------------------------------- accumulation
def test_accumulation_updates_every_second_iteration_as_the_concatenated_batch():
    """Objective 1 (the warm-up's only update): 2 accumulated iterations of batch 2 == one
    iteration of batch 4, and nothing moves in between."""
    model = without_batch_norm(adaptation_enabled=False)
    reference = copy.deepcopy(model)
    batches = [make_two_domain_batch(batch_size=2, seed=seed) for seed in (1, 2)]
    accumulating = build_optim_wrapper(model, lr=LR, momentum=0.9, accumulative_counts=2)
    start = flat(model)
    model.train_step(batches[0], accumulating)
    assert all(torch.equal(start[p], v) for p, v in flat(model).items())
    model.train_step(batches[1], accumulating)
    assert all(not torch.equal(start[p], v) for p, v in flat(model).items())
    reference.train_step(concatenated(*batches), build_optim_wrapper(reference, lr=LR,
                                                                     momentum=0.9))
    assert_same_parameters(model, reference, rtol=1e-5, atol=1e-6)


def gradients(loss, params):
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]


def loss_of(losses):
    return sum(v for k, v in losses.items() if k.startswith('loss'))


def test_accumulation_steps_each_objective_with_the_mean_of_its_own_gradients():
    """All three objectives, checked by hand: after two accumulated iterations psi has taken
    Objective 1's mean gradient, then Objective 3's, never their mixture; f' Objective 1's,
    then Objective 2's, each computed where the parameters were at its backward."""
    model = without_batch_norm()
    ref = copy.deepcopy(model)
    a, b = (make_two_domain_batch(batch_size=2, seed=seed) for seed in (3, 4))
    optim_wrapper = build_optim_wrapper(model, lr=LR, accumulative_counts=2)
    start = flat(model)
    model.train_step(a, optim_wrapper)
    assert all(torch.equal(start[p], v) for p, v in flat(model).items())
    model.train_step(b, optim_wrapper)

    parts = {part: [dict(ref.named_parameters())[n] for n in names]
             for part, names in parameters_by_part(ref).items()}
    everything = parts['generator'] + parts['head'] + parts['adv_head']

    def objective_1(batch):
        source, _ = ref.split_domains(batch)
        return gradients(loss_of(ref.objective_1(source['inputs'], source['data_samples'])),
                         everything)

    def target_pass(batch):
        feats = ref.extract_feat(ref.split_domains(batch)[1])
        with torch.no_grad():
            logits = ref.head(feats)
        return feats, logits, ref.ground_false(logits)

    def objective_2(batch):
        return gradients(loss_of(ref.objective_2(*target_pass(batch))), parts['adv_head'])

    def objective_3(batch):
        feats, _, pseudo = target_pass(batch)
        return gradients(loss_of(ref.objective_3(feats, pseudo)), parts['generator'])

    def step(params, *grads):
        with torch.no_grad():
            for param, *grad in zip(params, *grads):
                param -= LR * sum(grad) / len(grad)

    # iteration 1 only accumulates: every objective sees the starting parameters
    g1a, g2a, g3a = objective_1(a), objective_2(a), objective_3(a)
    step(everything, g1a, objective_1(b))
    step(parts['adv_head'], g2a, objective_2(b))
    step(parts['generator'], g3a, objective_3(b))
    assert_same_parameters(model, ref, rtol=1e-5, atol=1e-6)


def test_accumulation_follows_the_runner_iteration_after_a_resume():
    """A run resumed at iteration 2 of 3 with accumulative_counts=2 updates at once, its last
    window having one iteration: the update equals a plain one."""
    model = without_batch_norm(adaptation_enabled=False)
    reference = copy.deepcopy(model)
    batch = make_two_domain_batch(batch_size=2, seed=5)
    accumulating = build_optim_wrapper(model, lr=LR, accumulative_counts=2)
    accumulating.initialize_count_status(model, 2, 3)
    assert accumulating.iterations == 2
    model.train_step(batch, accumulating)
    reference.train_step(batch, build_optim_wrapper(reference, lr=LR))
    assert_same_parameters(model, reference)


def dann_without_batch_norm():
    """DANN on the tiny model, batch norm left out everywhere (the discriminator's too), so
    that its gradients add up over sub-batches."""
    model = without_batch_norm(type='FeatureAlignmentPoseEstimator', alignment=dict(
        type='DomainAdversarialLoss', in_channels=8, hidden_channels=16))
    for index, layer in enumerate(model.alignment.discriminator):
        if isinstance(layer, torch.nn.BatchNorm1d):
            model.alignment.discriminator[index] = torch.nn.Identity()
    return model


def test_dann_accumulation_across_the_warm_up_switch_equals_the_concatenated_batch():
    """Two warm-up iterations, then two adapting ones, accumulating 2: the same as one warm-up
    and one adapting iteration of the concatenated batches. The iterations are those train_step
    opens, whatever the update is called (its name changes when adaptation starts)."""
    model = dann_without_batch_norm()
    reference = copy.deepcopy(model)
    batches = [make_two_domain_batch(batch_size=2, seed=seed) for seed in (11, 12, 13, 14)]
    accumulating = build_optim_wrapper(model, lr=LR, momentum=0.9, accumulative_counts=2)
    accumulating.initialize_count_status(model, 0, 4)
    for iteration, batch in enumerate(batches):
        model.adaptation_enabled = iteration >= 2  # AdaptationScheduleHook(warmup_iters=2)
        model.train_step(batch, accumulating)
    plain = build_optim_wrapper(reference, lr=LR, momentum=0.9)
    for iteration in range(2):
        reference.adaptation_enabled = iteration >= 1
        reference.train_step(concatenated(*batches[2 * iteration:2 * iteration + 2]), plain)
    assert_same_parameters(model, reference, rtol=1e-5, atol=1e-6)


def test_dann_steps_at_the_end_of_each_window_when_one_straddles_the_warm_up():
    """The case the labels got wrong: one warm-up iteration, accumulating 2, 4 iterations: psi
    steps at iterations 2 and 4."""
    model = dann_without_batch_norm()
    optim_wrapper = build_optim_wrapper(model, lr=LR, accumulative_counts=2)
    optim_wrapper.initialize_count_status(model, 0, 4)
    stepped = []
    for iteration in range(1, 5):
        model.adaptation_enabled = iteration > 1
        before = flat(model)['generator']
        model.train_step(make_two_domain_batch(batch_size=2, seed=iteration), optim_wrapper)
        if not torch.equal(before, flat(model)['generator']):
            stepped.append(iteration)
    assert stepped == [2, 4]


def test_parts_must_share_accumulative_counts():
    from mmengine.optim import build_optim_wrapper as build
    model = build_tiny_regda()
    cfg = dict(constructor='PartOptimWrapperConstructor',
               generator=dict(optimizer=dict(type='SGD', lr=0.1), accumulative_counts=2),
               head=dict(optimizer=dict(type='SGD', lr=0.1)),
               adv_head=dict(optimizer=dict(type='SGD', lr=0.1)))
    with pytest.raises(ValueError, match='accumulative_counts must be the same for every part'):
        build(model, cfg)


# ---------------------------------------------------------------- clipping
def test_clipping_applies_to_each_part_on_its_own():
    model = build_tiny_regda(adaptation_enabled=False)
    optim_wrapper = build_optim_wrapper(model, lr=LR)
    optim_wrapper['head'].clip_grad_kwargs = dict(max_norm=1e-3)
    optim_wrapper['head'].clip_func = torch.nn.utils.clip_grad_norm_
    optim_wrapper['head'].grad_name = 'head.grad_norm'
    start = flat(model)
    model.train_step(make_two_domain_batch(), optim_wrapper)
    moved = {part: (value - start[part]).norm().item() for part, value in flat(model).items()}
    assert moved['head'] == pytest.approx(LR * 1e-3, rel=1e-3)  # clipped to max_norm
    assert moved['generator'] > 10 * LR * 1e-3 and moved['adv_head'] > 10 * LR * 1e-3
    clipped_norm = MessageHub.get_current_instance().get_scalar('train/head.grad_norm')
    assert clipped_norm.current() > 1e-3  # the norm before clipping, logged per part


# ---------------------------------------------------------------- mixed precision
# a scale whose gradients fit float16 here (the default 2**16 overflows this tiny model at first)
FITTING = dict(init_scale=2.**8)


def test_float16_gives_each_objective_its_loss_scale_shared_by_its_parts():
    model = build_tiny_regda()
    optim_wrapper = build_optim_wrapper(model, lr=LR, type='AmpOptimWrapper', loss_scale=FITTING)
    start = flat(model)
    log_vars = model.train_step(make_two_domain_batch(), optim_wrapper)
    assert all(torch.isfinite(v).all() for v in log_vars.values())
    assert sorted(optim_wrapper.loss_scalers) == ['objective_1', 'objective_2', 'objective_3']
    for scaler in optim_wrapper.loss_scalers.values():
        assert scaler.get_scale() == 2.**8 and scaler.state_dict()['_growth_tracker'] == 1
    assert all(not torch.equal(start[p], v) for p, v in flat(model).items())


def test_an_overflow_in_one_part_skips_every_part_and_lowers_the_scale():
    model = build_tiny_regda(adaptation_enabled=False)
    optim_wrapper = build_optim_wrapper(model, lr=LR, type='AmpOptimWrapper', loss_scale=FITTING)
    # only f' overflows: its gradient becomes inf
    hook = model.adv_head.final_layer.weight.register_hook(lambda grad: grad * float('inf'))
    start = flat(model)
    model.train_step(make_two_domain_batch(), optim_wrapper)
    (objective, scaler), = optim_wrapper.loss_scalers.items()
    assert objective == 'objective_1' and scaler.get_scale() == 2.**7
    assert all(torch.equal(start[p], v) for p, v in flat(model).items())  # no part stepped
    assert all(p.grad is None for p in model.parameters())  # nothing left for the next update
    hook.remove()
    model.train_step(make_two_domain_batch(), optim_wrapper)
    assert all(not torch.equal(start[p], v) for p, v in flat(model).items())
    assert scaler.get_scale() == 2.**7


def nan_target(batch):
    batch['target']['inputs'] = [torch.full((3, 32, 32), float('nan'))
                                 for _ in batch['target']['inputs']]
    return batch


def test_float16_stops_when_an_objective_keeps_overflowing_naming_it_and_the_term():
    model = build_tiny_regda()
    optim_wrapper = build_optim_wrapper(model, lr=LR, type='AmpOptimWrapper', loss_scale=FITTING)
    optim_wrapper.max_skipped_updates = 3
    for _ in range(2):  # skipped, the scale halved each time; the source objective goes on
        model.train_step(nan_target(make_two_domain_batch()), optim_wrapper)
    scales = {key: s.get_scale() for key, s in optim_wrapper.loss_scalers.items()}
    assert scales == {'objective_1': 2.**8, 'objective_2': 2.**6, 'objective_3': 2.**6}
    with pytest.raises(FloatingPointError, match=r'Objective 2 .*: 3 float16 updates in a row '
                       r'were skipped .*the loss term `loss_ground_false` is nan'):
        model.train_step(nan_target(make_two_domain_batch()), optim_wrapper)
    for name, param in model.named_parameters():
        assert torch.isfinite(param).all(), name


def test_bfloat16_needs_no_scaler_and_stops_on_a_non_finite_loss():
    model = build_tiny_regda()
    optim_wrapper = build_optim_wrapper(model, lr=LR, type='AmpOptimWrapper', dtype='bfloat16')
    with optim_wrapper.objective('objective_1', ('head', )).optim_context(model):
        assert model.head(model.extract_feat(torch.zeros(1, 3, 32, 32))).dtype == torch.bfloat16
    start = flat(model)
    model.train_step(make_two_domain_batch(), optim_wrapper)
    assert not optim_wrapper.loss_scalers
    assert all(not torch.equal(start[p], v) for p, v in flat(model).items())
    with pytest.raises(FloatingPointError, match=r'Objective 2.*`loss_ground_false` is nan'):
        model.train_step(nan_target(make_two_domain_batch()), optim_wrapper)


def test_loss_scales_survive_a_checkpoint():
    model = build_tiny_regda()
    optim_wrapper = build_optim_wrapper(model, lr=LR, type='AmpOptimWrapper', loss_scale=FITTING)
    for _ in range(2):
        model.train_step(make_two_domain_batch(), optim_wrapper)
    state = copy.deepcopy(optim_wrapper.state_dict())
    assert sorted(state) == ['adv_head', 'generator', 'head', 'loss_scalers']
    assert {s['_growth_tracker'] for s in state['loss_scalers'].values()} == {2}
    resumed = build_optim_wrapper(model, lr=LR, type='AmpOptimWrapper')  # default 2**16
    resumed.load_state_dict(copy.deepcopy(state))
    assert resumed.state_dict()['loss_scalers'] == state['loss_scalers']  # kept until used
    model.train_step(make_two_domain_batch(), resumed)
    for name, scaler in resumed.loss_scalers.items():
        assert scaler.get_scale() == state['loss_scalers'][name]['scale']
        assert scaler.state_dict()['_growth_tracker'] == 3  # counted on from the checkpoint


def test_a_checkpoint_of_other_parts_is_refused_naming_both():
    model = build_tiny_regda()
    state = build_optim_wrapper(model).state_dict()
    del state['adv_head']
    with pytest.raises(KeyError, match=r"parts \['generator', 'head'\], but this model trains "
                       r"parts \['adv_head', 'generator', 'head'\]"):
        build_optim_wrapper(model).load_state_dict(state)


# ---------------------------------------------------------------- what an update may touch
def test_an_objective_sending_gradients_to_a_part_it_does_not_update_is_refused():
    model = build_tiny_regda()
    optim_wrapper = build_optim_wrapper(model)
    feats = model.extract_feat(torch.zeros(2, 3, 32, 32))
    optim_wrapper.start_iteration()
    update = optim_wrapper.objective('objective_x', ('adv_head', ), 'Objective X')
    with pytest.raises(RuntimeError, match=r"Objective X updates parts \['adv_head'\] but sent "
                       'gradients to part `generator`'):
        update.update_params(model.adv_head(feats).mean())



def test_an_update_outside_an_opened_iteration_is_refused():
    model = build_tiny_regda()
    update = build_optim_wrapper(model).objective('objective_2', ('adv_head', ), 'Objective 2')
    with pytest.raises(RuntimeError, match=r'Objective 2: no iteration is open.*'
                       r'start_iteration\(\)'):
        update.update_params(model.adv_head(model.extract_feat(torch.zeros(2, 3, 32, 32))).mean())


def test_the_dict_keeps_mmengine_s_refusal_of_whole_model_updates():
    """Every update names its objective and parts; mmengine's OptimWrapperDict refuses
    update_params and optim_context, and so does this one."""
    optim_wrapper = build_optim_wrapper(build_tiny_regda())
    with pytest.raises(NotImplementedError):
        optim_wrapper.update_params(torch.zeros(()))
    with pytest.raises(NotImplementedError):
        with optim_wrapper.optim_context(None):
            pass


# ---------------------------------------------------------------- checkpoints of before the ids
#: The float16 loss scalers of a RegDA checkpoint written when they were keyed by the
#: objectives' display names (two iterations at init_scale 2**8).
OLD_FORMAT_SCALERS = {
    name: {'scale': 256.0, 'growth_factor': 2.0, 'backoff_factor': 0.5, 'growth_interval': 2000,
           '_growth_tracker': 2}
    for name in ("Objective 1 (source: psi, f, f')", "Objective 2 (target: f' minimises L_F)",
                 'Objective 3 (target: psi minimises L_T)')}


def test_a_checkpoint_keyed_by_display_names_resumes_under_the_ids():
    model = build_tiny_regda()
    state = build_optim_wrapper(model, lr=LR, type='AmpOptimWrapper').state_dict()
    state['loss_scalers'] = copy.deepcopy(OLD_FORMAT_SCALERS)
    resumed = build_optim_wrapper(model, lr=LR, type='AmpOptimWrapper')
    resumed.load_state_dict(state)
    assert sorted(resumed.state_dict()['loss_scalers']) == [
        'objective_1', 'objective_2', 'objective_3']
    model.train_step(make_two_domain_batch(), resumed)
    for scaler in resumed.loss_scalers.values():
        assert scaler.get_scale() == 256. and scaler.state_dict()['_growth_tracker'] == 3


def test_dann_s_warm_up_and_adaptation_scalers_of_before_resume_as_its_one_objective():
    from mmpose_regda.engine.optim_wrappers.part_optim_wrapper_dict import \
        legacy_scalers_to_ids
    warm_up, adapting = dict(scale=8., _growth_tracker=1), dict(scale=4., _growth_tracker=2)
    for scalers in ({'Source loss (psi, f)': warm_up,
                     'Source loss + DomainAdversarialLoss': adapting},
                    {'Source loss + DomainAdversarialLoss': adapting,
                     'Source loss (psi, f)': warm_up}):
        assert legacy_scalers_to_ids(scalers) == {'objective_1': adapting}
    assert legacy_scalers_to_ids({'Step B (f, f2: ...)': warm_up, 'step_a': adapting}) == {
        'step_b': warm_up, 'step_a': adapting}


def test_a_checkpoint_with_an_unknown_objective_is_refused_saying_so():
    model = build_tiny_regda()
    state = build_optim_wrapper(model, type='AmpOptimWrapper').state_dict()
    state['loss_scalers'] = {'Some objective of another plugin': OLD_FORMAT_SCALERS[
        'Objective 3 (target: psi minimises L_T)']}
    with pytest.raises(KeyError, match=r"'Some objective of another plugin', which is neither an "
                       r'objective id nor the name of an objective of an earlier version.*'
                       r'cannot be resumed in float16'):
        build_optim_wrapper(model, type='AmpOptimWrapper').load_state_dict(state)
