"""Distributed training of the adaptation models uses mmengine's
``MMSeparateDistributedDataParallel`` (as mmagic's GANs do): each part of the model with
parameters is its own DDP module, so every pass that calls a part goes through its DDP forward and
its backward all-reduces exactly that part's gradients, however many updates an iteration has.
"""
from mmengine.model import MMSeparateDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS

# the name of the first configs (mmengine's root registry is where the Runner looks)
MODEL_WRAPPERS.register_module(name='RegDADistributedDataParallel',
                               module=MMSeparateDistributedDataParallel)

__all__ = []
