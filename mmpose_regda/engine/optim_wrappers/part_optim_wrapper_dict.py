"""One ``OptimWrapper`` per part of a model, updated objective by objective."""
import math
from contextlib import contextmanager
from typing import Dict, Iterator, Sequence, Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import OPTIM_WRAPPERS
from torch import Tensor


@OPTIM_WRAPPERS.register_module()
class PartOptimWrapperDict(OptimWrapperDict):
    """The optimizers of an adaptation model, one ``OptimWrapper`` per part (psi, f, f', a
    discriminator), and the update of one objective over some of the parts.

    An adaptation method minimises several objectives per iteration, each over its own parts
    (RegDA: psi, f and f', then f' alone, then psi alone). Each objective is one update, written
    as in mmengine's ``BaseModel.train_step``::

        with optim_wrapper.optim_context(model):
            losses = ...                                   # dict of log variables
        log_vars = optim_wrapper.update_params(losses, parts=('adv_head', ),
                                               objective='Objective 2')

    ``update_params`` back-propagates the sum of the ``loss*`` terms once and steps the named
    parts through their own wrappers, so each part's ``clip_grad`` applies to its gradients, and:

    - **Accumulation** (``accumulative_counts=k``, the same for every part): the parts step every
      k-th iteration, each objective with the mean of its own k gradients. Objectives never mix:
      psi's Objective-1 and Objective-3 gradients are kept apart between steps, so k iterations
      of batch B update like one iteration of batch k*B would (up to batch norm and to the later
      objectives seeing the parameters of before the window's first update).
    - **Mixed precision**: ``optim_context`` autocasts to ``dtype``. In float16 every objective
      has its own dynamic loss scale (a ``GradScaler``) shared by the optimizers of the parts it
      updates: if any of those gradients overflow, no part steps and the scale is lowered, as in
      PyTorch's recipe for several optimizers. One scaler per objective rather than one for all:
      an objective's scale then changes only at its own update (the same optimizer steps twice
      per iteration in RegDA, and accumulated gradients must share one scale), and L_T and L_F
      get the scale their magnitudes need. bfloat16 needs no scaler.
    - **Non-finite losses**: in full precision and bfloat16 a non-finite log variable stops
      training before the backward, naming the objective and the term, so no parameter ever
      receives it. In float16 an overflow skips the update (the scaler's job), and
      ``max_skipped_updates`` skipped updates of one objective in a row stop training with the
      same message: a loss that stays non-finite is not an overflow.

    Each objective syncs with the host once (the finiteness check, or the scaler's overflow
    check). An iteration starts with the first update after ``initialize_count_status`` or with
    an objective that was already updated in the current one: every method's first update of an
    iteration is its source objective, run once per iteration like each of the others.

    Args:
        wrappers (dict[str, OptimWrapper]): part name -> its wrapper.
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
                 dtype: Union[str, torch.dtype, None] = None,
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 device_type: str = 'cpu',
                 max_skipped_updates: int = 25):
        super().__init__(**wrappers)
        counts = {name: w._accumulative_counts for name, w in wrappers.items()}
        if len(set(counts.values())) > 1:
            raise ValueError(f'accumulative_counts must be the same for every part (the parts '
                             f'are updated by the same iterations), got {counts}')
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
        self._loss_scalers: Dict[str, torch.amp.GradScaler] = {}
        self._scaler_states: Dict[str, dict] = {}  # loaded from a checkpoint, not yet used
        self._accumulated: Dict[str, Dict[Tensor, Tensor]] = {}
        self._updated_this_iteration = set()
        self._skipped_in_a_row: Dict[str, int] = {}  # per objective

    @property
    def scales_loss(self) -> bool:
        return self.cast_dtype == torch.float16

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """Autocast for mixed precision (nothing in full precision). Gradients are all-reduced
        at every backward, also between accumulation steps: every DDP part is synced."""
        if self.cast_dtype is None:
            yield
            return
        with torch.autocast(self.device_type, dtype=self.cast_dtype):
            yield

    def update_params(self, losses: Dict[str, Tensor], parts: Sequence[str],
                      objective: str) -> Dict[str, Tensor]:
        """Minimise the sum of the ``loss*`` terms of ``losses`` over ``parts`` (see the class
        docstring); ``objective`` names the update in errors and keys its state. Returns the
        log variables, detached."""
        wrappers = [self.optim_wrappers[part] for part in parts]
        self._count_iteration(objective)
        scaler = self._loss_scaler(objective) if self.scales_loss else None
        if scaler is None:
            self._stop_if_not_finite(objective, losses)
        loss = sum(value for name, value in losses.items() if name.startswith('loss'))
        loss = loss / self._loss_factor(wrappers[0])
        params = [p for w in wrappers for group in w.param_groups for p in group['params']]
        for param, grad in self._accumulated.pop(objective, {}).items():
            param.grad = grad
        (scaler.scale(loss) if scaler is not None else loss).backward()
        self._check_no_gradient_outside(parts, objective)
        log_vars = {name: value.detach() for name, value in losses.items()}
        if not wrappers[0].should_update():
            # this objective's gradients wait apart from the others' for the window's end
            self._accumulated[objective] = {p: p.grad for p in params if p.grad is not None}
            for param in params:
                param.grad = None
            return log_vars
        if scaler is not None and self._overflowed(scaler, wrappers):
            self._skip(objective, losses, scaler, wrappers)
            return log_vars
        for wrapper in wrappers:
            wrapper.step()  # clip_grad, then the optimizer
        if scaler is not None:
            scaler.update(self._static_scale)
            self._skipped_in_a_row[objective] = 0
        for wrapper in wrappers:
            wrapper.zero_grad()
        return log_vars

    def _check_no_gradient_outside(self, parts: Sequence[str], objective: str) -> None:
        """A gradient on a part the objective does not update would be stepped by the next
        objective that updates it: a missing ``detach`` in the method, caught here."""
        for name, wrapper in self.optim_wrappers.items():
            if name in parts:
                continue
            if any(p.grad is not None for g in wrapper.param_groups for p in g['params']):
                raise RuntimeError(f'{objective} updates parts {list(parts)} but sent '
                                   f'gradients to part `{name}` too; detach what it reads '
                                   'from that part, or freeze it')

    # ------------------------------------------------------------------ iteration counting
    def initialize_count_status(self, model: nn.Module, init_counts: int,
                                max_counts: int) -> None:
        """As ``OptimWrapper``'s, for every part (mmengine's ``OptimWrapperDict`` does
        nothing here, which would leave accumulation unaware of a resume)."""
        first, *others = self.optim_wrappers.values()
        first.initialize_count_status(model, init_counts, max_counts)
        for wrapper in others:
            wrapper._inner_count = first._inner_count
            wrapper._max_counts = first._max_counts
            wrapper._remainder_counts = first._remainder_counts
        self._updated_this_iteration.clear()
        self._accumulated.clear()

    def _count_iteration(self, objective: str) -> None:
        if not self._updated_this_iteration or objective in self._updated_this_iteration:
            self._updated_this_iteration.clear()
            for wrapper in self.optim_wrappers.values():
                wrapper._inner_count += 1  # what OptimWrapper.backward counts, once per iteration
        self._updated_this_iteration.add(objective)

    @staticmethod
    def _loss_factor(wrapper: OptimWrapper) -> int:
        """``OptimWrapper.scale_loss``'s factor for the iteration just counted."""
        counts = wrapper._accumulative_counts
        if counts == 1 or wrapper._max_counts == -1:
            return counts
        if wrapper._inner_count - 1 < wrapper._max_counts - wrapper._remainder_counts:
            return counts
        return wrapper._remainder_counts

    # ------------------------------------------------------------------ precision
    def _stop_if_not_finite(self, objective: str, losses: Dict[str, Tensor]) -> None:
        values = torch.stack([value.detach().float().mean() for value in losses.values()])
        if not torch.isfinite(values).all():  # the one host sync of this objective
            raise FloatingPointError(
                f'{objective}: {self._non_finite_terms(losses)}; training stopped before the '
                'update, so no parameter received it. Lower the learning rates or check the '
                'inputs of this batch.')

    @staticmethod
    def _non_finite_terms(losses: Dict[str, Tensor]) -> str:
        terms = [(name, value.detach().float().mean().item()) for name, value in losses.items()]
        bad = [f'the loss term `{name}` is {value}' for name, value in terms
               if not math.isfinite(value)]
        return ', '.join(bad) or 'every loss term is finite but the gradients are not'

    def _loss_scaler(self, objective: str) -> torch.amp.GradScaler:
        if objective not in self._loss_scalers:
            if isinstance(self.loss_scale, dict):
                scaler = torch.amp.GradScaler(self.device_type, **self.loss_scale)
            elif isinstance(self.loss_scale, float):
                scaler = torch.amp.GradScaler(self.device_type, init_scale=self.loss_scale)
            else:
                scaler = torch.amp.GradScaler(self.device_type)
            if objective in self._scaler_states:
                scaler.load_state_dict(self._scaler_states.pop(objective))
            self._loss_scalers[objective] = scaler
        return self._loss_scalers[objective]

    def _overflowed(self, scaler: torch.amp.GradScaler, wrappers: Sequence[OptimWrapper]) -> bool:
        found_inf = []
        for wrapper in wrappers:
            scaler.unscale_(wrapper.optimizer)
            found_inf += list(scaler._found_inf_per_device(wrapper.optimizer).values())
        return bool(torch.stack(found_inf).sum().item())  # the one host sync of this objective

    def _skip(self, objective: str, losses: Dict[str, Tensor], scaler: torch.amp.GradScaler,
              wrappers: Sequence[OptimWrapper]) -> None:
        for wrapper in wrappers:
            wrapper.zero_grad()
        scale = scaler.get_scale()
        scaler.update(self._static_scale)  # lowers a dynamic scale: unscale_ saw the overflow
        skipped = self._skipped_in_a_row.get(objective, 0) + 1
        self._skipped_in_a_row[objective] = skipped
        if skipped >= self.max_skipped_updates:
            raise FloatingPointError(
                f'{objective}: {skipped} float16 updates in a row were skipped '
                f'for non-finite gradients (loss scale now {scale:g}); '
                f'{self._non_finite_terms(losses)}. Training stopped: lower the learning rates, '
                'check the inputs, or train in bfloat16 or full precision.')

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        """The parts' optimizer states, plus each objective's loss scaler in float16."""
        state = super().state_dict()
        scalers = {name: scaler.state_dict() for name, scaler in self._loss_scalers.items()}
        scalers.update(self._scaler_states)
        if scalers:
            state['loss_scalers'] = scalers
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        self._scaler_states = dict(state_dict.pop('loss_scalers', {}))
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
        """Objective name -> its loss scaler (float16 only; created at its first update)."""
        return self._loss_scalers
