"""Command-line arguments the benchmark runners share, checked before the first stage starts.

A benchmark chains many training runs: an argument that cannot work must fail at once, with the
argument and what was expected, not inside the first subprocess nor after all training (a
picture of 0 images), and never give a number that looks valid (``--seeds 0 0``: a spread of 0
between two runs that are one).
"""
import argparse
from typing import Sequence

# mmengine draws its own random seeds below 2**31; numpy refuses seeds outside [0, 2**32), and
# the seed is offset per rank, worker and epoch
SEED_LIMIT = 2**31


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter,
                    argparse.RawDescriptionHelpFormatter):
    """``--help`` with each option's default and the description's own line breaks."""

    def _get_help_string(self, action):
        if action.default is None:  # the help says where the value then comes from
            return action.help
        return super()._get_help_string(action)


def seed(text: str) -> int:
    """An ``argparse`` type: a training seed in ``[0, 2**31)``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'a seed is an integer, got {text!r}') from None
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(
            f'a seed must be in [0, {SEED_LIMIT - 1}] (numpy and mmengine seed generators '
            f'with it), got {value}')
    return value


def positive_int(text: str) -> int:
    """An ``argparse`` type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected an integer >= 1, got {text!r}') from None
    if value < 1:
        raise argparse.ArgumentTypeError(f'expected an integer >= 1, got {value}')
    return value


def cfg_option(text: str) -> str:
    """An ``argparse`` type: a ``key=value`` config override, as ``tools/train.py`` takes."""
    key, sep, _ = text.partition('=')
    if not sep or not key.strip() or key != key.strip():
        raise argparse.ArgumentTypeError(f'a config option is key=value (e.g. '
                                         f'train_cfg.max_iters=10), got {text!r}')
    return text


def check_distinct(parser: argparse.ArgumentParser, option: str, values: Sequence,
                   why: str = '') -> None:
    """End with a usage error naming the values of ``option`` given more than once."""
    values = list(values)
    repeated = [v for i, v in enumerate(values) if v in values[:i]]
    if repeated:
        parser.error(f'{option}: {", ".join(map(str, dict.fromkeys(repeated)))} given more '
                     f'than once; expected distinct values{why}')
