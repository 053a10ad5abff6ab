from .kl_heatmap_head import KLHeatmapHead, spatial_softmax

__all__ = ['KLHeatmapHead', 'spatial_softmax']
