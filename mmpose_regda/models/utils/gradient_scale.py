import torch
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
    by a factor that warms up from 0 (see ``AdaptationScheduleHook``). A negative factor
    reverses the gradient (DANN's gradient reversal layer).
    """
    if factor == 1:
        return inputs
    return _ScaleGradient.apply(inputs, factor)
