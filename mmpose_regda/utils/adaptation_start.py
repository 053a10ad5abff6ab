"""Where an adaptation run starts: psi alone from the stage-1 checkpoint, or psi and f."""
from typing import Dict

STARTS = ('psi', 'psi+f')


def adaptation_start_options(checkpoint: str, start: str = 'psi',
                             adaptation_model: bool = True) -> Dict[str, object]:
    """Config settings (for ``Config.merge_from_dict``, or ``--cfg-options`` key by key) that
    start an adaptation model from a stage-1 (source-only) checkpoint.

    - ``'psi'``: the paper's start ("the model is adopted as the feature generator psi") and the
      reference's: the adaptation model's ``psi_checkpoint``, whose psi weights (backbone, neck,
      the head's deconvolutions; any backbone and neck, with or without their own ``init_cfg``)
      it loads when it is initialised; f and f' keep their own initialisation. ``load_from`` is
      cleared. The paper task configs start this way.
    - ``'psi+f'``: psi and f from the checkpoint, key for key (``load_from``); f' fresh, as the
      checkpoint has none.

    Args:
        checkpoint (str): the stage-1 checkpoint (path or URL, as mmengine loads them).
        start (str): ``'psi'`` or ``'psi+f'``.
        adaptation_model (bool): False for a plain ``TopdownPoseEstimator`` (the benchmark's
            control, source only continued), which has no ``psi_checkpoint``: psi alone then
            starts through mmengine's ``Pretrained`` init of ``backbone`` and ``neck`` with a key
            prefix, which needs both to take an ``init_cfg`` (mmpose's ResNet and the plugin's
            ``DeconvUpsampleNeck`` do).

    Returns:
        dict: ``{'model.psi_checkpoint': checkpoint, 'load_from': None}`` or
        ``{'model.psi_checkpoint': None, 'load_from': checkpoint}``.
    """
    if start not in STARTS:
        raise ValueError(f'adaptation start must be one of {STARTS}, got {start!r}')
    if not adaptation_model:
        if start == 'psi+f':
            return {'load_from': checkpoint}
        options = {f'model.{name}.init_cfg': dict(type='Pretrained', checkpoint=checkpoint,
                                                  prefix=f'{name}.') for name in ('backbone',
                                                                                  'neck')}
        return dict(options, load_from=None)
    if start == 'psi+f':
        return {'model.psi_checkpoint': None, 'load_from': checkpoint}
    return {'model.psi_checkpoint': checkpoint, 'load_from': None}
