import math
from typing import Dict, Sequence

import torch
from mmengine.optim import OptimWrapperDict
from torch import Tensor


def minimise_over_parts(objective: str, losses: Dict[str, Tensor],
                        optim_wrapper: OptimWrapperDict,
                        parts: Sequence[str]) -> Dict[str, Tensor]:
    """One update: minimise the sum of the ``loss*`` terms over the named parts' parameters only.

    The training steps of the adaptation methods are sequences of such updates (RegDA's three
    objectives, MCD's three steps, DANN's and DAN's one). Before anything is back-propagated, every
    logged value is checked: a non-finite one stops training with a message naming the objective
    and the term, so no parameter ever receives it.

    Args:
        objective (str): how the error message names this update.
        losses (dict): log variables; those whose name starts with ``loss`` are minimised.
        optim_wrapper (OptimWrapperDict): one optimizer per part.
        parts (Sequence[str]): the parts this objective updates; the others keep their
            parameters (and receive no stale gradient: every touched part is zeroed after).

    Returns:
        dict: the log variables, detached.
    """
    # one device sync per objective, not one per term
    values = torch.stack([value.detach().float().mean() for value in losses.values()])
    if not torch.isfinite(values).all():
        name, value = next((n, v) for n, v in zip(losses, values.tolist())
                           if not math.isfinite(v))
        raise FloatingPointError(
            f'{objective}: the loss term `{name}` is {value}; training stopped before the '
            'update, so no parameter received it. Lower the learning rates or check the '
            'inputs of this batch.')
    wrappers = [optim_wrapper[part] for part in parts]
    for wrapper in wrappers:
        wrapper.zero_grad()
    sum(value for name, value in losses.items() if name.startswith('loss')).backward()
    for wrapper in wrappers:
        wrapper.step()
        wrapper.zero_grad()
    return {name: value.detach() for name, value in losses.items()}
