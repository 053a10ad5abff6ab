import math
from typing import Iterator, Optional, Tuple

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmpose.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class DomainAdaptationSampler(Sampler):
    """Draws (source index, target index, item seed) triples for ``DomainAdaptationDataset``.

    - Source and target are shuffled independently (two random streams), and differently each
      epoch (both seeded by ``seed + epoch``; ``DistSamplerSeedHook`` sets the epoch). A plain
      sampler would pair source i with target i forever.
    - The smaller dataset is cycled, reshuffled at each pass, up to the epoch length
      (``len(dataset)``).
    - Under DDP each rank takes its own shard (``rank::world_size``) of the same epoch order.
    - The item seed drives the data augmentation of that item (see the dataset): it depends on
      the epoch and position, not on the worker, so augmentation differs between epochs and
      does not depend on ``num_workers`` (mmengine seeds workers the same way every epoch).

    Args:
        dataset (DomainAdaptationDataset): the two-domain dataset.
        shuffle (bool): shuffle; False pairs i with i (cycling), for debugging.
        seed (int, optional): shared by all ranks; a random one is synchronised if None.
        round_up (bool): pad so every rank gets the same number of items.
    """

    def __init__(self, dataset, shuffle: bool = True, seed: Optional[int] = None,
                 round_up: bool = True):
        for name in ('num_source', 'num_target'):
            if not hasattr(dataset, name):
                raise TypeError('DomainAdaptationSampler samples a DomainAdaptationDataset, '
                                f'got {type(dataset).__name__}')
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.round_up = round_up
        self.epoch = 0
        if round_up:
            self.num_samples = math.ceil(len(dataset) / self.world_size)
            self.total_size = self.num_samples * self.world_size
        else:
            self.num_samples = math.ceil((len(dataset) - self.rank) / self.world_size)
            self.total_size = len(dataset)

    def _cycled_order(self, size: int, generator: torch.Generator) -> torch.Tensor:
        length = len(self.dataset)
        if not self.shuffle:
            return torch.arange(length) % size
        passes = [torch.randperm(size, generator=generator) for _ in range(-(-length // size))]
        return torch.cat(passes)[:length]

    def __iter__(self) -> Iterator[Tuple[int, int, int]]:
        source_stream, target_stream, seed_stream = (
            torch.Generator().manual_seed(self.seed + self.epoch + offset * 1_000_003)
            for offset in range(3))
        source = self._cycled_order(self.dataset.num_source, source_stream)
        target = self._cycled_order(self.dataset.num_target, target_stream)
        item_seeds = torch.randint(0, 2**31 - 1, (len(self.dataset), ), generator=seed_stream)
        triples = list(zip(source.tolist(), target.tolist(), item_seeds.tolist()))
        if self.round_up and self.total_size > len(triples):
            triples = (triples * math.ceil(self.total_size / len(triples)))[:self.total_size]
        return iter(triples[self.rank:self.total_size:self.world_size])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
