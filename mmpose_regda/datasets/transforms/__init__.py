from .photometric import RandomColorJitter, RandomGaussianBlur

__all__ = ['RandomColorJitter', 'RandomGaussianBlur']
