from typing import Dict, Union

from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapperDict
from mmengine.registry import MODEL_WRAPPERS
from torch import Tensor


@MODEL_WRAPPERS.register_module()
class RegDADistributedDataParallel(MMDistributedDataParallel):
    """DDP for models that own a multi-pass ``train_step`` (RegDA's three objectives).

    mmengine's ``MMDistributedDataParallel.train_step`` runs its own single-loss step and never
    calls the model's; and a pass that calls the inner module directly runs without gradient
    all-reduce, so ranks silently diverge. This wrapper hands the model's ``train_step`` the
    wrapper itself as ``forward``: every pass of every objective goes through DDP's forward, and
    each backward all-reduces exactly the gradients of the parameters that pass used.

    Registered in mmengine's root ``MODEL_WRAPPERS``, where the Runner looks wrappers up.
    ``find_unused_parameters`` defaults to True because each objective uses only some parts
    (Objective 2 only f'); ``broadcast_buffers`` defaults to False as in mmengine's Runner.
    """

    def __init__(self, module, find_unused_parameters: bool = True,
                 broadcast_buffers: bool = False, **kwargs):
        if not find_unused_parameters:
            raise ValueError('RegDADistributedDataParallel needs find_unused_parameters=True: '
                             'each RegDA objective leaves some parts without gradient')
        super().__init__(module=module, find_unused_parameters=True,
                         broadcast_buffers=broadcast_buffers, **kwargs)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        return self.module.train_step(data, optim_wrapper, forward=self)
