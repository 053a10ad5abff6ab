"""Where an adaptation run starts: psi alone from the stage-1 checkpoint, or psi and f."""
from typing import Dict

#: The modules of the feature generator psi, and their key prefixes in checkpoints.
PSI_MODULES = ('backbone', 'neck')
STARTS = ('psi', 'psi+f')


def adaptation_start_options(checkpoint: str, start: str = 'psi') -> Dict[str, object]:
    """Config settings (for ``Config.merge_from_dict``, or ``--cfg-options`` key by key) that
    start an adaptation model from a stage-1 (source-only) checkpoint.

    - ``'psi'``: the paper's start ("the model is adopted as the feature generator psi") and the
      reference's: backbone and neck load the checkpoint's ``backbone.`` / ``neck.`` weights
      through mmengine's ``PretrainedInit`` with a key prefix, when the model is initialised; f
      and f' keep their own initialisation. ``load_from`` is cleared. The paper task configs
      start this way.
    - ``'psi+f'``: psi and f from the checkpoint, key for key (``load_from``); f' fresh, as the
      checkpoint has none.

    Args:
        checkpoint (str): the stage-1 checkpoint (path or URL, as mmengine loads them).
        start (str): ``'psi'`` or ``'psi+f'``.

    Returns:
        dict: ``{'model.backbone.init_cfg': ..., 'model.neck.init_cfg': ..., 'load_from': None}``
        or ``{'load_from': checkpoint}``.
    """
    if start not in STARTS:
        raise ValueError(f'adaptation start must be one of {STARTS}, got {start!r}')
    if start == 'psi+f':
        return {'load_from': checkpoint}
    options = {f'model.{name}.init_cfg': dict(type='Pretrained', checkpoint=checkpoint,
                                              prefix=f'{name}.') for name in PSI_MODULES}
    options['load_from'] = None
    return options
