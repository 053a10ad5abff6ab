from .photometric import RandomColorJitter, RandomGaussianBlur
from .whole_image_crop import GetWholeImageCenterScale

__all__ = ['RandomColorJitter', 'RandomGaussianBlur', 'GetWholeImageCenterScale']
