import torch
from torch import Tensor

from .heatmaps import heatmap_argmax


def heatmap_pck_accuracy(output: Tensor, target: Tensor, mask: Tensor,
                         thr: float = 0.05) -> Tensor:
    """mmpose's ``pose_pck_accuracy`` (its average accuracy) on the tensors' device.

    The training accuracy every heatmap head logs (``acc_pose``): PCK of the argmax of
    ``output`` against the argmax of ``target`` at ``thr`` of the heatmap size. mmpose computes
    it in numpy, which copies the heatmaps to the host and waits for the device at every
    iteration; this returns a device scalar that the logger reads when it logs anyway. As in
    mmpose, a peak <= 0 is no location (-1, -1), keypoints outside ``mask`` are ignored, the
    accuracy averages over the keypoints with at least one visible instance (0 if none), and x
    is divided by H, y by W.

    Args:
        output (Tensor): predicted heatmaps (N, K, H, W).
        target (Tensor): target heatmaps (N, K, H, W).
        mask (Tensor): (N, K), True (or > 0) where the keypoint counts.
        thr (float): the PCK threshold.

    Returns:
        Tensor: the average accuracy, a 0-dim float tensor.
    """
    N, K, H, W = output.shape

    def maximum(heatmaps: Tensor) -> Tensor:
        heatmaps = heatmaps.detach().float()
        locations = heatmap_argmax(heatmaps).float()
        return torch.where((heatmaps.flatten(2).amax(dim=-1) > 0)[..., None], locations,
                           torch.full_like(locations, -1.))

    norm = torch.tensor([H, W], dtype=torch.float32, device=output.device)
    distances = ((maximum(output) - maximum(target)) / norm).norm(dim=-1)
    visible = mask.reshape(N, K) > 0
    hits = ((distances < thr) & visible).sum(dim=0)
    counts = visible.sum(dim=0)
    counted = counts > 0
    per_keypoint = hits / counts.clamp_min(1)
    return (per_keypoint * counted).sum() / counted.sum().clamp_min(1)
