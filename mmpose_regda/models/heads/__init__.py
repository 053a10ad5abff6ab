from .kl_heatmap_head import KLHeatmapHead

__all__ = ['KLHeatmapHead']
