from .regda_distributed import RegDADistributedDataParallel

__all__ = ['RegDADistributedDataParallel']
