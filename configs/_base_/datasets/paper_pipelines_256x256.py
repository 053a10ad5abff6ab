# Pipelines of the paper's tasks: 256x256 crops, 64x64 heatmaps with sigma 2. The paper does not
# say how it crops and augments, so these are the reference implementation's choices:
# - crop: a square 1.5 times the keypoints' box, kept inside the image (GetSquareCropCenterScale);
#   LSP: the whole image, padded to a square (its ResizePad);
# - hands mirrored to one chirality, left (MirrorToChirality: RHD's right hands, FreiHand's);
# - augmentation: rotation uniform in +-180 degrees for hands, +-30 for bodies, then a square
#   zoomed-in crop of 0.6-1.3 of the area (RandomRotateResizedCrop), colour jitter 0.25, blur
#   0-0.8 px; LSP, only a target there, is not augmented at all (its labeled pipeline, for the
#   oracle, is).
# Target-domain pipelines encode no heatmap: there is none. Test pipelines pack the keypoints in
# input pixels, which the paper protocol's metric reads (PaperProtocolPCKAccuracy).
# mmpose's own crop (GetBBoxCenterScale: 1.25 x the box) and augmentation (RandomBBoxTransform)
# stay available: configs/regda/ uses them.
codec = dict(type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2)
HAND_ROTATION, BODY_ROTATION = 180, 30


def _pipeline(crop, augment=None, encode=False, mirror=None, test=False):
    """``crop``: 'square' (the reference's 1.5x box) or 'whole_image'; ``augment``: the rotation
    range, or None for none; ``mirror``: MirrorToChirality's settings, or None."""
    steps = [dict(type='LoadImage')]
    if mirror is not None:
        steps.append(dict(type='MirrorToChirality', **mirror))
    steps.append(dict(type='GetSquareCropCenterScale', padding=1.5) if crop == 'square' else
                 dict(type='GetWholeImageCenterScale'))
    if augment is not None:
        steps.append(dict(type='RandomRotateResizedCrop', rotate_degrees=augment,
                          area_range=(0.6, 1.3)))
    steps.append(dict(type='TopdownAffine', input_size=codec['input_size']))
    if augment is not None:
        steps += [
            dict(type='RandomColorJitter', brightness=0.25, contrast=0.25, saturation=0.25),
            dict(type='RandomGaussianBlur', low=0., high=0.8),
        ]
    if encode:
        steps.append(dict(type='GenerateTarget', encoder=codec))
    steps.append(dict(type='PackPoseInputs', pack_transformed=test))
    return steps


def _dataset_pipelines(rotation, crop='square', mirror=None, augment_target=True):
    """A dataset's labeled training, unlabeled target and test pipelines."""
    return dict(
        train=_pipeline(crop, rotation, encode=True, mirror=mirror),
        target=_pipeline(crop, rotation if augment_target else None, mirror=mirror),
        test=_pipeline(crop, mirror=mirror, test=True))


# the reference's chirality, every hand left: RHD's files say each hand's side, FreiHand's
# hands are all right hands; H3D's are used as they are
pipelines = dict(
    rhd=_dataset_pipelines(HAND_ROTATION, mirror=dict(chirality='left')),
    h3d=_dataset_pipelines(HAND_ROTATION),
    freihand=_dataset_pipelines(
        HAND_ROTATION, mirror=dict(chirality='left', default_hand_type='right')),
    surreal=_dataset_pipelines(BODY_ROTATION),
    human36m=_dataset_pipelines(BODY_ROTATION),
    lsp=_dataset_pipelines(BODY_ROTATION, crop='whole_image', augment_target=False))
