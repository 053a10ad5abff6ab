from typing import Dict

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomColorJitter(BaseTransform):
    """Random brightness, contrast and saturation, as torchvision's ``ColorJitter``.

    The reference implementation trains with ``ColorJitter(0.25, 0.25, 0.25)``: each factor is
    drawn from ``[1 - s, 1 + s]`` and the three are applied in a random order. Synthetic images
    have cleaner colours than real ones; jitter keeps the model from keying on them.

    Required keys: img (BGR uint8). Modified keys: img.

    Args:
        brightness, contrast, saturation (float): strengths ``s`` in [0, 1].
    """

    def __init__(self, brightness: float = 0.25, contrast: float = 0.25,
                 saturation: float = 0.25):
        for name, value in (('brightness', brightness), ('contrast', contrast),
                            ('saturation', saturation)):
            if not 0 <= value <= 1:
                raise ValueError(f'RandomColorJitter: {name} must be in [0, 1], got {value}')
        self.strengths = dict(brightness=brightness, contrast=contrast, saturation=saturation)

    def transform(self, results: Dict) -> Dict:
        img = results['img'].astype(np.float32)
        for name in np.random.permutation(list(self.strengths)):
            strength = self.strengths[name]
            if strength == 0:
                continue
            factor = np.random.uniform(1 - strength, 1 + strength)
            if name == 'brightness':
                img = img * factor
            elif name == 'contrast':
                gray_mean = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8),
                                         cv2.COLOR_BGR2GRAY).mean()
                img = (img - gray_mean) * factor + gray_mean
            else:
                gray = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8),
                                    cv2.COLOR_BGR2GRAY).astype(np.float32)[..., None]
                img = (img - gray) * factor + gray
            img = np.clip(img, 0, 255)
        results['img'] = img.astype(np.uint8)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.strengths})'


@TRANSFORMS.register_module()
class RandomGaussianBlur(BaseTransform):
    """Gaussian blur with a random std drawn from ``[low, high]`` (reference: 0 to 0.8 px).

    Required keys: img. Modified keys: img.
    """

    def __init__(self, low: float = 0., high: float = 0.8):
        if not 0 <= low <= high:
            raise ValueError(f'RandomGaussianBlur: need 0 <= low <= high, got {low}, {high}')
        self.low, self.high = low, high

    def transform(self, results: Dict) -> Dict:
        sigma = np.random.uniform(self.low, self.high)
        if sigma > 0:
            results['img'] = cv2.GaussianBlur(results['img'], (0, 0), sigmaX=sigma)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(low={self.low}, high={self.high})'
