from typing import Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmpose.registry import MODELS


@MODELS.register_module()
class DeconvUpsampleNeck(BaseModule):
    """SimpleBaseline's upsampling (Xiao et al., 2018) as a neck: stride-2 transposed convolutions,
    each followed by BN and ReLU.

    In mmpose's ``HeatmapHead`` these layers live in the head. RegDA needs them in the feature
    generator psi, shared by f and f' (the paper: psi = backbone + upsampling, f and f' = 2-layer
    convolutions), and putting them in a neck gives the source-only model and the RegDA model the
    same checkpoint keys.

    Args:
        in_channels (int): channels of the backbone's last feature map.
        out_channels (Sequence[int]): channels of each deconv layer. Defaults to (256, 256, 256).
        kernel_sizes (Sequence[int]): kernel size of each layer, 4, 3 or 2. Defaults to (4, 4, 4).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: Sequence[int] = (256, 256, 256),
                 kernel_sizes: Sequence[int] = (4, 4, 4),
                 init_cfg=dict(type='Normal', layer='ConvTranspose2d', std=0.001)):
        super().__init__(init_cfg)
        if len(out_channels) != len(kernel_sizes):
            raise ValueError(f'DeconvUpsampleNeck: out_channels {tuple(out_channels)} and '
                             f'kernel_sizes {tuple(kernel_sizes)} must have the same length')
        # (padding, output_padding) that make each layer exactly double the resolution
        paddings = {4: (1, 0), 3: (1, 1), 2: (0, 0)}
        layers = []
        for channels, kernel_size in zip(out_channels, kernel_sizes):
            if kernel_size not in paddings:
                raise ValueError(f'DeconvUpsampleNeck: kernel size {kernel_size} not supported; '
                                 f'expected one of {sorted(paddings)}')
            padding, output_padding = paddings[kernel_size]
            layers += [
                nn.ConvTranspose2d(in_channels, channels, kernel_size, stride=2, padding=padding,
                                   output_padding=output_padding, bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True),
            ]
            in_channels = channels
        self.layers = nn.Sequential(*layers)
        self.out_channels = in_channels

    def forward(self, inputs: Tuple[Tensor]) -> Tuple[Tensor]:
        """(B, C, h, w) -> (B, out_channels[-1], h * 2^n, w * 2^n), as a 1-tuple."""
        return (self.layers(inputs[-1]), )
