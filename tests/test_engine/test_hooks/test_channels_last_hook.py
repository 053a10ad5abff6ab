"""ChannelsLastHook: the model's weights and its preprocessed inputs in NHWC, the same numbers."""
import copy
from types import SimpleNamespace

import torch

import mmpose_regda  # noqa: F401
from mmpose_regda.engine.hooks import ChannelsLastHook
from tiny_regda import build_optim_wrapper, build_tiny_regda, make_two_domain_batch

CL = torch.channels_last


def test_weights_and_inputs_go_channels_last_and_train_to_the_same_numbers():
    model = build_tiny_regda()
    reference = copy.deepcopy(model)
    ChannelsLastHook().before_run(SimpleNamespace(model=model))
    ChannelsLastHook().before_run(SimpleNamespace(model=model))  # twice: one input hook
    convs = [p for p in model.parameters() if p.dim() == 4]
    assert convs and all(p.is_contiguous(memory_format=CL) for p in convs)
    assert not all(p.is_contiguous() for p in convs)
    batch = make_two_domain_batch()
    inputs = model.data_preprocessor(copy.deepcopy(batch['source']), True)['inputs']
    assert inputs.is_contiguous(memory_format=CL) and not inputs.is_contiguous()
    assert len(model.data_preprocessor._forward_hooks) == 1
    logs = model.train_step(copy.deepcopy(batch), build_optim_wrapper(model))
    expected = reference.train_step(copy.deepcopy(batch), build_optim_wrapper(reference))
    for name, value in expected.items():
        torch.testing.assert_close(logs[name], value, rtol=1e-4, atol=1e-5, msg=name)
    for (name, a), b in zip(model.named_parameters(), reference.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)


def test_disabled_it_leaves_the_default_layout():
    model = build_tiny_regda()
    ChannelsLastHook(enable=False).before_run(SimpleNamespace(model=model))
    assert all(p.is_contiguous() for p in model.parameters())
    assert not model.data_preprocessor._forward_hooks
