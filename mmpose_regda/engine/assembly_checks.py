"""What an adaptation run needs beyond its model, checked once the runner has built it: the
pieces whose absence would otherwise fail late (at the first update, or only under DDP) or
unclearly (``'OptimWrapper' object has no attribute 'objective'``, ``KeyError: 'inputs'``).
``AdaptationScheduleHook`` runs the check before any weight is loaded."""
from mmengine.model import MMSeparateDistributedDataParallel, is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.registry import MODEL_WRAPPERS

from .optim_wrappers.part_optim_wrapper_dict import PartOptimWrapperDict

#: Where a user finds the pieces (the guide names them).
GUIDE = 'docs/adapting_a_stock_config.md'


def check_assembly(runner, model) -> None:
    """Raise with the fix named unless the runner trains ``model`` (an adaptation estimator)
    with one optimizer per part and wraps it with one DDP module per part.

    Runs in a single process too: the model wrapper is read from ``model_wrapper_cfg``, so a
    config that would fail only under ``dist_train.sh`` fails on a laptop first.
    """
    name = type(model).__name__
    optim_wrapper = getattr(runner, 'optim_wrapper', None)
    if isinstance(optim_wrapper, OptimWrapper) and not isinstance(optim_wrapper,
                                                                  PartOptimWrapperDict):
        raise TypeError(
            f'optim_wrapper: {name} trains one optimizer per part ({", ".join(model.optim_parts())}'
            f'), but the runner built a single {type(optim_wrapper).__name__}. Set '
            "optim_wrapper=dict(_delete_=True, constructor='PartOptimWrapperConstructor', "
            '<part>=dict(optimizer=...) for each part), e.g. '
            f"mmpose_regda.configs.optim_wrapper('{_method(model)}') ({GUIDE}).")
    cfg = getattr(runner, 'cfg', None)
    wrapped = getattr(runner, 'model', None)
    if is_model_wrapper(wrapped):
        wrapper_type = type(wrapped)
    elif cfg is not None:
        wrapper_cfg = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
        wrapper_type = wrapper_cfg.get('type')
        if isinstance(wrapper_type, str):
            wrapper_type = MODEL_WRAPPERS.get(wrapper_type)
    else:
        return  # nothing to read (a runner stand-in)
    if not (isinstance(wrapper_type, type)
            and issubclass(wrapper_type, MMSeparateDistributedDataParallel)):
        shown = getattr(wrapper_type, '__name__', wrapper_type)
        raise TypeError(
            f'model_wrapper_cfg: {name} runs each part through its own DDP module (every update '
            f'passes through several parts), but the model would be wrapped by {shown}, which '
            "calls the model's forward instead of its train_step (KeyError: 'inputs' under "
            "dist_train.sh). Set model_wrapper_cfg=dict(type='MMSeparateDistributedDataParallel')"
            f' ({GUIDE}).')


def _method(model) -> str:
    return {'FeatureAlignmentPoseEstimator': 'DANN', 'MCDPoseEstimator': 'MCD'}.get(
        type(model).__name__, 'RegDA')
