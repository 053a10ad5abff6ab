"""Checks of the checkpoint a run starts from, made by the tools before the Runner loads it.

mmengine loads ``load_from`` non-strictly: weights of another shape (a head for another keypoint
count) are skipped with a note and the model evaluates or trains from its random
initialisation. Resuming with another method's checkpoint fails deep inside mmengine
(``Mismatched 'state_dict'``, ``KeyError: 'param_groups'``), and an empty or truncated file with
a bare ``EOFError``. These checks read the checkpoint file and the config only, so they do not
depend on the estimator or optimizer classes, and refuse such a start with
:class:`CheckpointMismatch`, naming the file and what was expected.
"""
import os.path as osp
import re
from typing import Dict, List, Optional

import torch
from mmengine.model import is_model_wrapper
from torch import nn

from ..engine.optim_wrappers.part_optim_wrapper_constructor import NON_PART_KEYS
from ..utils.compat import describe_unsafe_checkpoint, weights_only_refusal

# The parts a plain top-down model (source only, KL pretraining, oracle) has. An adaptation
# model adds others (f' = ``adv_head``, a domain discriminator, ...) that a source-only
# checkpoint cannot have: starting an adaptation from it leaves them at their initialisation.
SOURCE_ONLY_PARTS = ('backbone', 'neck', 'head')
# optimizer constructors that build one optimizer per part, and the keys of their config that
# are not parts
PART_CONSTRUCTORS = ('PartOptimWrapperConstructor', 'RegDAOptimWrapperConstructor')
# saved beside the per-part optimizer states, not an optimizer
NON_OPTIMIZER_STATES = ('loss_scalers', )
SHOWN = 3  # how many keys an error lists
# the prediction fields that a part of an adaptation model writes, as evaluators name them
# (``PartPCKAccuracy(pred_field='adv_pred_instances')`` scores f' = ``adv_head``)
PREDICTION_FIELDS = {'adv_pred_instances': 'adv_head'}


class CheckpointMismatch(ValueError):
    """A checkpoint that cannot start this run; the message names the file and what was
    expected."""


def is_local(path: str) -> bool:
    """False for what mmengine downloads (``https://``, ``open-mmlab://``, ``s3://``...)."""
    return '://' not in str(path)


def read_checkpoint(path: str, field: str = '') -> dict:
    """The checkpoint at ``path`` on the CPU, as mmengine will load it.

    Tensors are memory-mapped where the file format allows, so reading a large checkpoint here
    costs little before the Runner loads it again.

    Args:
        path (str): the file.
        field (str): how the error names where the path came from (``'load_from'``,
            ``'--resume'``); none for the checkpoint argument of ``tools/test.py``.

    Raises:
        CheckpointMismatch: the file is missing, empty, truncated or not a dict, or refused by
            weights-only loading: then the message quotes torch's reason (``Trying to load
            unsupported GLOBAL posix.system ...``) and says the file may be malicious, not
            damaged (nothing of it is executed).
    """
    field = f'{field}: ' if field else ''
    if not osp.isfile(path):
        raise CheckpointMismatch(f'{field}checkpoint {path} not found')
    if osp.getsize(path) == 0:
        raise CheckpointMismatch(
            f'{field}checkpoint {path} is empty (0 bytes), as a save that was interrupted '
            'leaves it; delete it and start from an earlier checkpoint of the run')
    try:
        try:
            checkpoint = torch.load(path, map_location='cpu', mmap=True)
        except RuntimeError as e:
            if 'mmap' not in str(e):
                raise
            checkpoint = torch.load(path, map_location='cpu')  # the legacy (non-zip) format
    except Exception as e:  # torch raises several types for a damaged file
        reason = weights_only_refusal(e)
        if reason is not None:
            message = describe_unsafe_checkpoint(path, reason, field.rstrip(': '))
            raise CheckpointMismatch(message) from None
        text = str(e).strip()
        first_line = text.splitlines()[0] if text else ''
        raise CheckpointMismatch(
            f'{field}checkpoint {path} cannot be read ({type(e).__name__}: {first_line}); '
            'the file is damaged or truncated (an interrupted save or copy?)') from None
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatch(f'{field}{path} holds a {type(checkpoint).__name__}; expected '
                                 'a checkpoint dict (as mmengine saves, or a state dict)')
    return checkpoint


def model_weights(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """The weights in a checkpoint, keyed as the model's (mmengine's own unwrapping)."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    return {re.sub(r'^module\.', '', key): value for key, value in state_dict.items()
            if isinstance(value, torch.Tensor)}


def _top_level(keys) -> set:
    return {key.split('.', 1)[0] for key in keys}


def _examples(keys: List[str]) -> str:
    shown = '; '.join(keys[:SHOWN])
    return shown + (f' and {len(keys) - SHOWN} more' if len(keys) > SHOWN else '')


def check_weights_fit(model: nn.Module, checkpoint: dict, path: str,
                      allow_new_parts: bool = True) -> List[str]:
    """Refuse a checkpoint whose weights do not fit ``model``; return the notes to log.

    Refused: a weight whose shape differs, a weight of the model missing from the checkpoint,
    or one the model has not, unless it is a whole part only one side has:

    - a part of the model that the checkpoint lacks entirely and that a source-only model does
      not have (``adv_head``, a discriminator): expected when a source-only model starts an
      adaptation model (``allow_new_parts``; not when resuming);
    - a part only the checkpoint has: an adaptation checkpoint evaluated with its source-only
      config (the extra part is unused).

    Returns:
        list[str]: one line per tolerated difference.
    """
    weights = model_weights(checkpoint)
    expected = model.state_dict()
    mismatched = [f'{key}: checkpoint {tuple(value.shape)}, model {tuple(expected[key].shape)}'
                  for key, value in weights.items()
                  if key in expected and value.shape != expected[key].shape]
    if mismatched:
        raise CheckpointMismatch(
            f'{path} does not fit the model: {len(mismatched)} weights differ in shape '
            f'({_examples(mismatched)}). It was trained for another keypoint count or '
            'architecture: use the config it was trained with.')
    notes = []
    missing = [key for key in expected if key not in weights]
    absent_parts = _top_level(expected) - _top_level(weights)
    new_parts = sorted(absent_parts - set(SOURCE_ONLY_PARTS)) if allow_new_parts else []
    refused = [key for key in missing if key.split('.', 1)[0] not in new_parts]
    if refused:
        raise CheckpointMismatch(
            f'{path} does not fit the model: it lacks {len(refused)} of the model\'s weights '
            f'({_examples(refused)}). It was saved from another model: use the config it was '
            'trained with.')
    for part in new_parts:
        count = sum(key.split('.', 1)[0] == part for key in expected)
        notes.append(f'{path} has no `{part}` ({count} tensors), as expected when a source-only '
                     f'model starts an adaptation model: `{part}` keeps its initialisation')
    unexpected = [key for key in weights if key not in expected]
    extra_parts = sorted(_top_level(weights) - _top_level(expected))
    partial = [key for key in unexpected if key.split('.', 1)[0] not in extra_parts]
    if partial:
        raise CheckpointMismatch(
            f'{path} does not fit the model: it has {len(partial)} weights the model has not '
            f'({_examples(partial)}). It was saved from another model: use the config it was '
            'trained with.')
    for part in extra_parts:
        notes.append(f'{path} has a `{part}` that this model has not: it is not loaded')
    return notes


def expected_optimizers(optim_wrapper) -> Optional[List[str]]:
    """The optimizers a config's ``optim_wrapper`` builds: the part names for a per-part
    constructor, ``[]`` for a single optimizer, None when it cannot be told from the config."""
    if not optim_wrapper:
        return None
    constructor = optim_wrapper.get('constructor', None)
    if constructor in PART_CONSTRUCTORS:
        return sorted(key for key, value in optim_wrapper.items()
                      if key not in NON_PART_KEYS and isinstance(value, dict))
    if constructor in (None, 'DefaultOptimWrapperConstructor') and 'optimizer' in optim_wrapper:
        return []
    return None


def saved_optimizers(optimizer_state) -> Optional[List[str]]:
    """The optimizers of a checkpoint's ``optimizer`` entry: ``[]`` for one optimizer (mmengine's
    ``OptimWrapper``: ``state`` and ``param_groups``), the part names for one per part."""
    if not isinstance(optimizer_state, dict):
        return None
    if 'param_groups' in optimizer_state and 'state' in optimizer_state:
        return []
    return sorted(key for key in optimizer_state if key not in NON_OPTIMIZER_STATES)


def _describe(optimizers: List[str]) -> str:
    if not optimizers:
        return 'a single optimizer (a source-only, KL-pretraining or oracle run)'
    return f'one optimizer per part ({", ".join(optimizers)})'


def check_resumable(checkpoint: dict, path: str, cfg) -> None:
    """Refuse to resume from a checkpoint of another kind of training than ``cfg``'s: another
    method (one optimizer against one per part) or no training state at all."""
    config = getattr(cfg, 'filename', None) or 'the config'
    missing = [key for key in ('meta', 'message_hub', 'optimizer') if key not in checkpoint]
    if missing:
        raise CheckpointMismatch(
            f'--resume: {path} has no {", ".join(f"`{k}`" for k in missing)}: it is not the '
            'checkpoint of a training run that can be continued. To start from its weights, '
            f'give it as load_from (without --resume).')
    saved = saved_optimizers(checkpoint['optimizer'])
    expected = expected_optimizers(cfg.get('optim_wrapper', None))
    if saved is None or expected is None or saved == expected:
        return
    advice = ('To start this training from that model, give it as load_from (without '
              '--resume); to continue the run that wrote it, resume with that run\'s config.')
    raise CheckpointMismatch(
        f'--resume: {path} holds the optimizer state of {_describe(saved)}, but {config} '
        f'trains with {_describe(expected)}. {advice}')


def _evaluator_cfgs(evaluators) -> list:
    if not evaluators:
        return []
    if isinstance(evaluators, dict):
        return [evaluators] if 'type' in evaluators else list(evaluators.get('metrics', []))
    return [e for e in evaluators if isinstance(e, dict)]


def check_scored_parts(checkpoint: dict, path: str, evaluators, model: nn.Module) -> None:
    """Refuse to score the predictions of a part the checkpoint does not have.

    An adaptation model evaluated from a source-only checkpoint keeps f' (``adv_head``) at its
    random initialisation: harmless for f's scores, but ``PartPCKAccuracy(
    pred_field='adv_pred_instances')`` would report the PCK of that random head.

    Args:
        evaluators: the evaluator config(s) of the run (``test_evaluator``).

    Raises:
        CheckpointMismatch: naming the checkpoint, the part and the evaluator's field.
    """
    present = _top_level(model_weights(checkpoint))
    parts = _top_level(model.state_dict())
    for metric in _evaluator_cfgs(evaluators):
        field = metric.get('pred_field', None)
        part = PREDICTION_FIELDS.get(field)
        if part is None or part not in parts or part in present:
            continue
        raise CheckpointMismatch(
            f'{path} has no `{part}` (no {part}.* weights: a source-only checkpoint), but the '
            f"evaluator {metric.get('type')}(pred_field='{field}') scores `{part}`'s "
            'predictions, which would come from its random initialisation. Evaluate a '
            f"checkpoint of the adaptation run, or drop pred_field='{field}' from "
            'test_evaluator')


def check_keypoints_match(checkpoint: dict, path: str, dataset_meta: Optional[dict]) -> None:
    """The keypoints the checkpoint was trained on (its ``meta.dataset_meta``) are those of the
    dataset it is about to be scored on: the same names in the same order. A checkpoint without
    names (or a dataset without) is not compared."""
    from ..utils.keypoint_semantics import check_keypoint_semantics, keypoint_names
    trained = keypoint_names((checkpoint.get('meta') or {}).get('dataset_meta'))
    scored = keypoint_names(dataset_meta)
    if trained is None or scored is None:
        return
    trained_on = checkpoint['meta']['dataset_meta'].get('dataset_name', '?')
    try:
        check_keypoint_semantics({
            f'{path} (trained on {trained_on})': trained,
            f'the test dataset ({(dataset_meta or {}).get("dataset_name", "?")})': scored})
    except ValueError as e:
        raise CheckpointMismatch(str(e)) from None


def check_start_checkpoint(cfg, model: nn.Module, field: Optional[str] = None,
                           evaluators=None, dataset_meta: Optional[dict] = None) -> List[str]:
    """What ``tools/train.py`` and ``tools/test.py`` check before the Runner loads
    ``cfg.load_from`` (resuming when ``cfg.resume``): readable, of the same kind of training when
    resuming, and with weights that fit ``model``. Remote checkpoints are left to mmengine.

    Args:
        field (str, optional): how errors name where the path came from; by default
            ``--resume`` or ``load_from``.
        evaluators (optional): the evaluator config(s) that will score the model
            (``tools/test.py``): the parts whose predictions they score must be in the
            checkpoint (:func:`check_scored_parts`).
        dataset_meta (dict, optional): the metainfo of the dataset the model will be scored on
            (``tools/test.py``): its keypoints must be the checkpoint's, in the same order
            (:func:`check_keypoints_match`).

    Returns:
        list[str]: notes to log (a part an adaptation model adds to its source-only start).
    """
    path = cfg.get('load_from', None)
    if not path or not is_local(path):
        return []
    resume = bool(cfg.get('resume', False))
    if field is None:
        field = '--resume' if resume else 'load_from'
    checkpoint = read_checkpoint(path, field)
    if resume:
        check_resumable(checkpoint, path, cfg)
    if is_model_wrapper(model):
        model = model.module
    notes = check_weights_fit(model, checkpoint, path, allow_new_parts=not resume)
    if evaluators is not None:
        check_scored_parts(checkpoint, path, evaluators, model)
    if dataset_meta is not None:
        check_keypoints_match(checkpoint, path, dataset_meta)
    return notes
