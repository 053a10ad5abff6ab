from .domain_adversarial_loss import DomainAdversarialLoss
from .multi_kernel_mmd_loss import MultiKernelMMDLoss
from .spatial_kl_loss import SpatialKLLoss

__all__ = ['DomainAdversarialLoss', 'MultiKernelMMDLoss', 'SpatialKLLoss']
