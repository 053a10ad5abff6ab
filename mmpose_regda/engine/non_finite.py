"""The one check of log variables for NaN and infinity, shared by the objectives' updates and
``NonFiniteLossHook``."""
import math
from typing import Dict, Sequence


def non_finite_terms(log_vars: dict, prefixes: Sequence[str] = ('loss', )) -> Dict[str, float]:
    """``{name: value}`` of the log variables named ``prefixes*`` whose value is NaN or
    infinite (a tensor counts by its mean; what is no number is not judged)."""
    bad = {}
    for name, value in log_vars.items():
        if not name.startswith(tuple(prefixes)):
            continue
        try:
            value = float(value.detach().float().mean()) if hasattr(value, 'detach') \
                else float(value)
        except (TypeError, ValueError):
            continue  # not a number: nothing to judge
        if not math.isfinite(value):
            bad[name] = value
    return bad


def describe_non_finite(log_vars: dict) -> str:
    """The non-finite loss terms of ``log_vars`` in words, for an error message (the total
    ``loss`` only where no term is named)."""
    bad = non_finite_terms(log_vars)
    terms = [name for name in bad if name != 'loss'] or list(bad)
    described = ', '.join(f'the loss term `{name}` is {bad[name]}' for name in terms)
    return described or 'every loss term is finite but the gradients are not'
