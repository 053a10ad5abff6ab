"""Reaching a model's parts when each may sit inside its own DDP wrapper.

Under ``MMSeparateDistributedDataParallel`` (mmengine's wrapper for models with several
optimizers, as mmagic's GANs) every child of the model with parameters is its own
``MMDistributedDataParallel``: calling it runs DDP's forward, whose backward all-reduces that
part's gradients. Everything else a part offers (a head's ``predict``, ``loss_from_logits``,
``out_channels``) lives on the module inside.
"""
import contextlib
from typing import Iterator

import torch.nn as nn
from mmengine.model import is_model_wrapper


def unwrap(module: nn.Module) -> nn.Module:
    """The module itself, outside its DDP wrapper if it has one."""
    return module.module if is_model_wrapper(module) else module


@contextlib.contextmanager
def unwrapped_children(model: nn.Module) -> Iterator[nn.Module]:
    """The model with its children outside their DDP wrappers, for inference (mmpose's
    ``predict`` calls ``self.head.predict``); the wrappers are back on exit."""
    wrapped = {name: child for name, child in model._modules.items()
               if child is not None and is_model_wrapper(child)}
    for name, child in wrapped.items():
        model._modules[name] = child.module
    try:
        yield model
    finally:
        model._modules.update(wrapped)


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[nn.Module]:
    """The module with its parameters frozen: gradients still flow through it to its inputs.

    This is how psi learns from f' in RegDA's Objective 3 while f' is held fixed, without
    computing (and all-reducing) weight gradients that would be thrown away. It yields the module
    outside its DDP wrapper: a DDP module expects gradients for every parameter it holds, and a
    frozen one has none to reduce.
    """
    module = unwrap(module)
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield module
    finally:
        for p in params:
            p.requires_grad_(True)
