import contextlib
from typing import Iterator

import torch
import torch.nn as nn
from torch import Tensor


class _ScaleGradient(torch.autograd.Function):

    @staticmethod
    def forward(ctx, inputs: Tensor, factor: float) -> Tensor:
        ctx.factor = factor
        return inputs.view_as(inputs)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        return grad_output * ctx.factor, None


def scale_gradient(inputs: Tensor, factor: float) -> Tensor:
    """Identity forward; multiplies the gradient by ``factor`` backward.

    RegDA puts it between psi and f' (the reference's ``WarmStartGradientLayer``): f' sees psi's
    features unchanged, while psi receives f's gradient at full strength and f''s only scaled,
    by a factor that warms up from 0 (see ``RegDAHook``). A negative factor reverses the gradient
    (DANN's gradient reversal layer).
    """
    if factor == 1:
        return inputs
    return _ScaleGradient.apply(inputs, factor)


@contextlib.contextmanager
def frozen_parameters(module: nn.Module) -> Iterator[None]:
    """Record operations of ``module`` without gradients for its own parameters.

    Gradients still flow through the module to its inputs: this is how psi learns from f' in
    Objective 3 while f' is held fixed, without computing (and, under DDP, all-reducing) weight
    gradients that would be thrown away.
    """
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)
