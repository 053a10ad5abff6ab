"""One ``OptimWrapper`` per part of a model, updated objective by objective."""
from contextlib import contextmanager
from typing import Dict, Iterator, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import OPTIM_WRAPPERS
from torch import Tensor

from ..non_finite import describe_non_finite

#: How checkpoints written before the objectives had ids keyed their float16 loss scalers: by
#: the objective's display name, which starts with one of these (the rest named the game).
LEGACY_OBJECTIVE_NAMES = {
    'Objective 1': 'objective_1', 'Objective 2': 'objective_2', 'Objective 3': 'objective_3',
    'Step A': 'step_a', 'Step B': 'step_b', 'Step C': 'step_c',
    # DANN and DAN: the warm-up's name, then the adaptation's (which wins when both are saved)
    'Source loss (': 'objective_1', 'Source loss + ': 'objective_1'}


class PartsUpdate:
    """The update of one objective over some parts of the model: what ``OptimWrapper`` is to a
    whole model, for a set of parts (see :class:`PartOptimWrapperDict`). Made by
    :meth:`PartOptimWrapperDict.objective`; its state (accumulated gradients, loss scale)
    lives in the dict under the objective's id.

    Args:
        parent (PartOptimWrapperDict): the parts' wrappers.
        objective (str): the stable id (``'objective_1'``), which keys the state and the
            checkpoint.
        parts (Sequence[str]): the parts the objective updates.
        name (str, optional): how logs and errors name the objective; defaults to the id.
    """

    def __init__(self, parent: 'PartOptimWrapperDict', objective: str, parts: Sequence[str],
                 name: Optional[str] = None):
        unknown = [part for part in parts if part not in parent.optim_wrappers]
        if unknown:
            raise KeyError(f'{name or objective} updates parts {unknown}, which have no '
                           f'optimizer; the parts are {list(parent.optim_wrappers)}')
        self.parent = parent
        self.objective = objective
        self.parts = tuple(parts)
        self.name = name or objective

    def optim_context(self, model: nn.Module):
        """The forward of this objective: autocast in mixed precision, nothing otherwise."""
        return self.parent.precision_context()

    def update_params(self, loss: Tensor, log_vars: Optional[Dict[str, Tensor]] = None) -> None:
        """Minimise ``loss`` (one tensor, as ``BaseModel.parse_losses`` returns it) over the
        parts; ``log_vars`` names the terms when a loss is not finite."""
        self.parent.update_parts(loss, self, log_vars)


@OPTIM_WRAPPERS.register_module()
class PartOptimWrapperDict(OptimWrapperDict):
    """The optimizers of an adaptation model, one ``OptimWrapper`` per part (psi, f, f', a
    discriminator), and the updates of its objectives, each over some of the parts.

    An adaptation method minimises several objectives per iteration, each over its own parts
    (RegDA: psi, f and f', then f' alone, then psi alone). Its ``train_step`` opens the
    iteration, then writes each objective's update as mmagic's GANs write theirs, the model
    parsing its own losses::

        optim_wrapper.start_iteration()
        update = optim_wrapper.objective('objective_2', parts=('adv_head', ), name=...)
        with update.optim_context(self):
            losses = ...                                  # dict of loss terms and log values
        loss, log_vars = self.parse_losses(losses)        # mmengine's BaseModel.parse_losses
        update.update_params(loss, log_vars)

    ``update_params`` back-propagates the loss once and steps the named parts through their own
    wrappers, so each part's ``clip_grad`` applies to its gradients, and:

    - **Accumulation** (``accumulative_counts=k``, the same for every part): the parts step every
      k-th iteration, each objective with the mean of its own k gradients. Objectives never mix:
      psi's Objective-1 and Objective-3 gradients are kept apart between steps, so k iterations
      of batch B update like one iteration of batch k*B would (up to batch norm and to the later
      objectives seeing the parameters of before the window's first update). Iterations are
      what ``start_iteration`` opens, counted from the runner's (``initialize_count_status``).
    - **Mixed precision**: ``optim_context`` autocasts to ``dtype``. In float16 every objective
      has its own dynamic loss scale (a ``GradScaler``) shared by the optimizers of the parts it
      updates: if any of those gradients overflow, no part steps and the scale is lowered, as in
      PyTorch's recipe for several optimizers. One scaler per objective rather than one for all:
      an objective's scale then changes only at its own update (the same optimizer steps twice
      per iteration in RegDA, and accumulated gradients must share one scale), and L_T and L_F
      get the scale their magnitudes need. bfloat16 needs no scaler.
    - **Non-finite losses**: in full precision and bfloat16 a non-finite loss stops training
      before the backward, naming the objective and the term, so no parameter ever receives it.
      In float16 an overflow skips the update (the scaler's job), and ``max_skipped_updates``
      skipped updates of one objective in a row stop training with the same message: a loss
      that stays non-finite is not an overflow.

    Each objective syncs with the host once (the finiteness check, or the overflow check).
    State (accumulated gradients, loss scales, skipped updates) is keyed by the objectives'
    ids; checkpoints save the loss scales under them (``loss_scalers``).

    Args:
        wrappers (dict[str, OptimWrapper]): part name -> its wrapper.
        accumulative_counts (int): iterations per update, for every part (what each part's
            config sets; ``PartOptimWrapperConstructor`` checks they agree).
        dtype (str | torch.dtype, optional): the autocast dtype (``'float16'``,
            ``'bfloat16'``); None trains in full precision.
        loss_scale (str | float | dict): float16 only, as ``AmpOptimWrapper``: ``'dynamic'``,
            a static scale, or ``GradScaler`` arguments.
        device_type (str): where autocast and the scalers run (``'cuda'``, ``'cpu'``).
        max_skipped_updates (int): float16 only, consecutive skipped updates of one objective
            that stop training.
    """

    def __init__(self,
                 wrappers: Dict[str, OptimWrapper],
                 accumulative_counts: int = 1,
                 dtype: Union[str, torch.dtype, None] = None,
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 device_type: str = 'cpu',
                 max_skipped_updates: int = 25):
        super().__init__(**wrappers)
        if int(accumulative_counts) != accumulative_counts or accumulative_counts < 1:
            raise ValueError(f'accumulative_counts must be an integer >= 1, got '
                             f'{accumulative_counts!r}')
        self.accumulative_counts = int(accumulative_counts)
        for name, wrapper in wrappers.items():
            if hasattr(wrapper, 'grad_name'):  # clip_grad's logged norm, one per part
                wrapper.grad_name = f'{name}.{wrapper.grad_name}'
        self.cast_dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        self.device_type = device_type
        if isinstance(loss_scale, (int, float)):
            loss_scale = float(loss_scale)
        elif not (loss_scale == 'dynamic' or isinstance(loss_scale, dict)):
            raise TypeError('loss_scale must be "dynamic", a number or a dict of GradScaler '
                            f'arguments, got {loss_scale!r}')
        self.loss_scale = loss_scale
        # a static scale is restored after every update, as AmpOptimWrapper does
        self._static_scale = loss_scale if isinstance(loss_scale, float) else None
        self.max_skipped_updates = max_skipped_updates
        self.iterations = 0  # iterations opened, counted from the runner's at (re)start
        self._max_iterations = -1  # unknown: every window has k iterations
        self._updates: Dict[str, PartsUpdate] = {}
        self._loss_scalers: Dict[str, torch.amp.GradScaler] = {}
        self._scaler_states: Dict[str, dict] = {}  # loaded from a checkpoint, not yet used
        self._accumulated: Dict[str, Dict[Tensor, Tensor]] = {}
        self._skipped_in_a_row: Dict[str, int] = {}

    @property
    def scales_loss(self) -> bool:
        return self.cast_dtype == torch.float16

    # ------------------------------------------------------------------ the public steps
    def objective(self, objective: str, parts: Sequence[str],
                  name: Optional[str] = None) -> PartsUpdate:
        """The update of objective ``objective`` (a stable id) over ``parts``; ``name`` is
        what messages call it (it may change, e.g. when a method's adaptation starts)."""
        update = self._updates.get(objective)
        if update is None or update.parts != tuple(parts) or update.name != (name or objective):
            update = self._updates[objective] = PartsUpdate(self, objective, parts, name)
        return update

    def should_update(self) -> bool:
        """Whether the parts step at the end of the iteration open now (the end of an
        accumulation window), as ``OptimWrapper.should_update``: what a model that follows its
        parts (a mean teacher's EMA) waits for."""
        return self._window_ends()

    def start_iteration(self) -> None:
        """Open a training iteration: the model's ``train_step`` calls it once, before its
        first update, and accumulation counts the iterations it opens."""
        self.iterations += 1

    @contextmanager
    def precision_context(self) -> Iterator[None]:
        """Autocast for mixed precision (nothing in full precision). Gradients are all-reduced
        at every backward, also between accumulation steps: every DDP part is synced."""
        if self.cast_dtype is None:
            yield
            return
        with torch.autocast(self.device_type, dtype=self.cast_dtype):
            yield

    def update_parts(self, loss: Tensor, update: PartsUpdate,
                     log_vars: Optional[Dict[str, Tensor]] = None) -> None:
        """``update``'s step (see :class:`PartsUpdate`): backward, then the parts' steps at the
        end of an accumulation window."""
        if self.iterations == 0:
            raise RuntimeError(f'{update.name}: no iteration is open; the model\'s train_step '
                               'calls optim_wrapper.start_iteration() before its updates')
        key, wrappers = update.objective, [self.optim_wrappers[p] for p in update.parts]
        scaler = self._loss_scaler(key) if self.scales_loss else None
        if scaler is None and not bool(torch.isfinite(loss.detach())):  # the one host sync
            raise FloatingPointError(
                f'{update.name}: {describe_non_finite(log_vars or dict(loss=loss))}; training '
                'stopped before the update, so no parameter received it. Lower the learning '
                'rates or check the inputs of this batch.')
        loss = loss / self._loss_factor()
        params = [p for w in wrappers for group in w.param_groups for p in group['params']]
        for param, grad in self._accumulated.pop(key, {}).items():
            param.grad = grad
        (scaler.scale(loss) if scaler is not None else loss).backward()
        self._check_no_gradient_outside(update)
        if not self._window_ends():
            # this objective's gradients wait apart from the others' for the window's end
            self._accumulated[key] = {p: p.grad for p in params if p.grad is not None}
            for param in params:
                param.grad = None
            return
        if scaler is not None and self._overflowed(scaler, wrappers):
            self._skip(update, log_vars, scaler, wrappers)
            return
        for wrapper in wrappers:
            wrapper.step()  # clip_grad, then the optimizer
        if scaler is not None:
            scaler.update(self._static_scale)
            self._skipped_in_a_row[key] = 0
        for wrapper in wrappers:
            wrapper.zero_grad()

    def _check_no_gradient_outside(self, update: PartsUpdate) -> None:
        """A gradient on a part the objective does not update would be stepped by the next
        objective that updates it: a missing ``detach`` in the method, caught here."""
        for name, wrapper in self.optim_wrappers.items():
            if name in update.parts:
                continue
            if any(p.grad is not None for g in wrapper.param_groups for p in g['params']):
                raise RuntimeError(f'{update.name} updates parts {list(update.parts)} but sent '
                                   f'gradients to part `{name}` too; detach what it reads '
                                   'from that part, or freeze it')

    # ------------------------------------------------------------------ iteration counting
    def initialize_count_status(self, model: nn.Module, init_counts: int,
                                max_counts: int) -> None:
        """The runner's iteration at (re)start and its last one, as ``OptimWrapper`` takes
        them (mmengine's ``OptimWrapperDict`` does nothing here, which would leave
        accumulation unaware of a resume). mmengine's warnings (a resume inside a window,
        accumulation with batch norm) come from the first part's wrapper."""
        next(iter(self.optim_wrappers.values())).initialize_count_status(
            model, init_counts, max_counts)
        self.iterations = init_counts
        self._max_iterations = max_counts
        self._accumulated.clear()

    def _window_ends(self) -> bool:
        """``OptimWrapper.should_update`` for the iteration open now."""
        return (self.iterations % self.accumulative_counts == 0
                or self.iterations == self._max_iterations)

    def _loss_factor(self) -> int:
        """``OptimWrapper.scale_loss``'s factor for the iteration open now: k, or the length of
        the last, shorter window."""
        counts = self.accumulative_counts
        if counts == 1 or self._max_iterations == -1:
            return counts
        remainder = self._max_iterations % counts
        if self.iterations - 1 < self._max_iterations - remainder:
            return counts
        return remainder

    # ------------------------------------------------------------------ precision
    def _loss_scaler(self, key: str) -> torch.amp.GradScaler:
        if key not in self._loss_scalers:
            if isinstance(self.loss_scale, dict):
                scaler = torch.amp.GradScaler(self.device_type, **self.loss_scale)
            elif isinstance(self.loss_scale, float):
                scaler = torch.amp.GradScaler(self.device_type, init_scale=self.loss_scale)
            else:
                scaler = torch.amp.GradScaler(self.device_type)
            if key in self._scaler_states:
                scaler.load_state_dict(self._scaler_states.pop(key))
            self._loss_scalers[key] = scaler
        return self._loss_scalers[key]

    @staticmethod
    def _overflowed(scaler: torch.amp.GradScaler, wrappers: Sequence[OptimWrapper]) -> bool:
        """Unscale every part's gradients; whether any is not finite (an overflow skips the
        update of all, and ``scaler.update`` then lowers the scale)."""
        grads = [p.grad for w in wrappers for group in w.param_groups for p in group['params']
                 if p.grad is not None]
        for wrapper in wrappers:
            scaler.unscale_(wrapper.optimizer)
        if not grads:
            return False
        finite = torch.stack([torch.isfinite(grad).all() for grad in grads]).all()
        return not bool(finite)  # the one host sync of this objective

    def _skip(self, update: PartsUpdate, log_vars: Optional[Dict[str, Tensor]],
              scaler: torch.amp.GradScaler, wrappers: Sequence[OptimWrapper]) -> None:
        for wrapper in wrappers:
            wrapper.zero_grad()
        scale = scaler.get_scale()
        scaler.update(self._static_scale)  # lowers a dynamic scale: unscale_ saw the overflow
        skipped = self._skipped_in_a_row.get(update.objective, 0) + 1
        self._skipped_in_a_row[update.objective] = skipped
        if skipped >= self.max_skipped_updates:
            raise FloatingPointError(
                f'{update.name}: {skipped} float16 updates in a row were skipped '
                f'for non-finite gradients (loss scale now {scale:g}); '
                f'{describe_non_finite(log_vars or {})}. Training stopped: lower the learning '
                'rates, check the inputs, or train in bfloat16 or full precision.')

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        """The parts' optimizer states, plus each objective's loss scaler in float16 (keyed by
        the objectives' ids)."""
        state = super().state_dict()
        scalers = {key: scaler.state_dict() for key, scaler in self._loss_scalers.items()}
        scalers.update(self._scaler_states)
        if scalers:
            state['loss_scalers'] = scalers
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        self._scaler_states = legacy_scalers_to_ids(state_dict.pop('loss_scalers', {}))
        self._loss_scalers.clear()
        saved, expected = sorted(state_dict), sorted(self.optim_wrappers)
        if saved != expected:
            raise KeyError(f'the checkpoint has the optimizer state of parts {saved}, but this '
                           f'model trains parts {expected}: resume from a checkpoint of the '
                           'same method, or start from it with `load_from` (weights only)')
        super().load_state_dict(state_dict)

    def __repr__(self) -> str:
        precision = f'autocast {self.cast_dtype}' if self.cast_dtype else 'full precision'
        return f'{type(self).__name__}({precision}):\n' + super().__repr__()

    @property
    def loss_scalers(self) -> Dict[str, torch.amp.GradScaler]:
        """Objective id -> its loss scaler (float16 only; created at its first update)."""
        return self._loss_scalers


def legacy_scalers_to_ids(scalers: Dict[str, dict]) -> Dict[str, dict]:
    """The ``loss_scalers`` of a checkpoint keyed by objective ids. Checkpoints written before
    the ids keyed them by display names (``"Objective 1 (source: psi, f, f')"``), which are
    mapped to their ids here so that such a run resumes with its scales; a name that is neither
    an id nor a known display name is refused, naming it."""
    converted: Dict[str, Tuple[int, dict]] = {}
    known = set(LEGACY_OBJECTIVE_NAMES.values())
    for key, state in scalers.items():
        if key in known or key.isidentifier():
            rank, objective = len(LEGACY_OBJECTIVE_NAMES), key
        else:
            matches = [(rank, objective) for rank, (prefix, objective)
                       in enumerate(LEGACY_OBJECTIVE_NAMES.items()) if key.startswith(prefix)]
            if not matches:
                raise KeyError(
                    f'the checkpoint\'s loss_scalers has an entry {key!r}, which is neither an '
                    f'objective id nor the name of an objective of an earlier version '
                    f'({", ".join(repr(p) for p in LEGACY_OBJECTIVE_NAMES)}...): this '
                    'checkpoint cannot be resumed in float16; start from it with `load_from` '
                    '(weights only)')
            rank, objective = matches[0]
        if objective not in converted or converted[objective][0] <= rank:
            converted[objective] = (rank, state)
    return {objective: state for objective, (_, state) in converted.items()}
