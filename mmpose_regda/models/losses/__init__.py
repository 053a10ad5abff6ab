from .spatial_kl_loss import SpatialKLLoss, normalize_spatially

__all__ = ['SpatialKLLoss', 'normalize_spatially']
