"""Operations on heatmaps, (B, K, H, W) tensors: one home for what the heads, losses, task
modules and estimators all read."""
import torch
from torch import Tensor


def heatmap_argmax(heatmaps: Tensor) -> Tensor:
    """J of the paper: the position of each channel's maximum. (B, K, H, W) -> (B, K, 2) as (x, y).

    The spatial softmax is monotonic, so the argmax of logits is that of the distribution; unlike
    the reference, a non-positive peak is not forced to (0, 0).
    """
    W = heatmaps.shape[-1]
    flat_index = heatmaps.flatten(2).argmax(dim=-1)
    return torch.stack((flat_index % W, torch.div(flat_index, W, rounding_mode='floor')), dim=-1)


def spatial_softmax(logits: Tensor) -> Tensor:
    """sigma of Eq. 7: softmax over the H x W positions of each channel. (B, K, H, W) -> same."""
    return logits.flatten(2).softmax(dim=-1).reshape(logits.shape)


def normalize_spatially(heatmaps: Tensor, eps: float = 0.) -> Tensor:
    """P_T of Eq. 6: each channel divided by its sum over space.

    ``eps`` > 0 adds that mass to every pixel first (the reference's label smoothing). A channel
    that sums to zero (no Gaussian: invisible or out-of-crop joint) stays all zero instead of 0/0.

    Args:
        heatmaps (Tensor): (B, K, H, W), non-negative.

    Returns:
        Tensor: (B, K, H, W), each non-empty channel summing to 1.
    """
    if eps > 0:
        heatmaps = heatmaps + eps
    mass = heatmaps.sum(dim=(-2, -1), keepdim=True)
    return heatmaps / mass.clamp_min(torch.finfo(heatmaps.dtype).tiny)


def keypoint_disparity(heatmaps_a: Tensor, heatmaps_b: Tensor) -> Tensor:
    """Mean distance, in heatmap pixels, between the argmax keypoints of two predictions (Fig. 9's
    ``||y' - y||``). (B, K, H, W) twice -> scalar."""
    delta = (heatmap_argmax(heatmaps_a) - heatmap_argmax(heatmaps_b)).float()
    return delta.norm(dim=-1).mean()


def heatmap_discrepancy(logits_a: Tensor, logits_b: Tensor) -> Tensor:
    """MCD's discrepancy for heatmaps: the L1 distance between the two heads' spatial
    distributions (softmax over each keypoint's map), summed over space and averaged over
    B * K. It is MCD's L1 between class probabilities with the heatmap's positions as classes,
    bounded in [0, 2]: maximising it cannot diverge."""
    return (spatial_softmax(logits_a) - spatial_softmax(logits_b)).abs().flatten(2).sum(-1).mean()
