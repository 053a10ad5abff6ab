"""Distributed training of the adaptation models uses mmengine's
``MMSeparateDistributedDataParallel`` (as mmagic's GANs do): each part of the model with
parameters is its own DDP module, so every pass that calls a part goes through its DDP forward and
its backward all-reduces exactly that part's gradients, however many updates an iteration has.
"""
import warnings

from mmengine.model import MMSeparateDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS


# the name of the first configs (mmengine's root registry is where the Runner looks)
@MODEL_WRAPPERS.register_module(name='RegDADistributedDataParallel')
class DeprecatedRegDADistributedDataParallel(MMSeparateDistributedDataParallel):
    """``model_wrapper_cfg.type='RegDADistributedDataParallel'``: deprecated, it is
    ``MMSeparateDistributedDataParallel``."""

    def __init__(self, *args, **kwargs):
        warnings.warn("model_wrapper_cfg.type='RegDADistributedDataParallel' is deprecated: "
                      "use type='MMSeparateDistributedDataParallel'", DeprecationWarning,
                      stacklevel=2)
        super().__init__(*args, **kwargs)

__all__ = []
