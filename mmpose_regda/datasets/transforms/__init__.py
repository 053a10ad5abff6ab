from .mean_teacher_views import MeanTeacherViews, PackMeanTeacherInputs, random_view_affine
from .mirror_to_chirality import MirrorToChirality
from .photometric import RandomColorJitter, RandomGaussianBlur
from .random_rotate_resized_crop import RandomRotateResizedCrop
from .square_crop import GetSquareCropCenterScale, reference_square_box
from .whole_image_crop import GetWholeImageCenterScale

__all__ = [
    'RandomColorJitter', 'RandomGaussianBlur', 'GetWholeImageCenterScale',
    'GetSquareCropCenterScale', 'reference_square_box', 'RandomRotateResizedCrop',
    'MirrorToChirality', 'MeanTeacherViews', 'PackMeanTeacherInputs', 'random_view_affine'
]
