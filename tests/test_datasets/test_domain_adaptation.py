"""DomainAdaptationDataset and DomainAdaptationSampler: pairing, per-epoch independent shuffles,
DDP shards and augmentation seeds (the keypoint-definition check is AdaptationScheduleHook's)."""
from collections import Counter

import numpy as np
import pytest

import mmpose_regda  # noqa: F401
from mmpose_regda.datasets import DomainAdaptationDataset, DomainAdaptationSampler


class ListDataset:
    """A stand-in dataset: item i is (name, i, a number drawn from numpy's global generator)."""

    def __init__(self, name, size, num_keypoints=21):
        self.name, self.size = name, size
        self.metainfo = dict(dataset_name=name, num_keypoints=num_keypoints)

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        return (self.name, i, np.random.rand())


def make(num_source=6, num_target=4, length=None):
    return DomainAdaptationDataset(ListDataset('src', num_source), ListDataset('tgt', num_target),
                                   length=length)


def epoch(sampler, dataset, number):
    sampler.set_epoch(number)
    return [dataset[index] for index in sampler]


def test_empty_domain_and_bad_length():
    with pytest.raises(ValueError, match='target dataset tgt .* is empty'):
        DomainAdaptationDataset(ListDataset('src', 3), ListDataset('tgt', 0))
    with pytest.raises(ValueError, match='length must be > 0'):
        make(length=0)


def test_plain_index_pairs_cyclically():
    dataset = make()
    assert len(dataset) == 6
    item = dataset[5]
    assert item['source'][:2] == ('src', 5) and item['target'][:2] == ('tgt', 1)


def test_each_epoch_covers_source_and_cycles_target():
    dataset = make(num_source=6, num_target=4, length=12)
    items = epoch(DomainAdaptationSampler(dataset, seed=3), dataset, 0)
    assert len(items) == 12
    # 12 items = exactly two passes over the 6 sources and three over the 4 targets
    assert Counter(i['source'][1] for i in items) == {i: 2 for i in range(6)}
    assert Counter(i['target'][1] for i in items) == {i: 3 for i in range(4)}


def test_source_and_target_shuffled_independently_and_differently_every_epoch():
    dataset = make(num_source=8, num_target=8)
    sampler = DomainAdaptationSampler(dataset, seed=0)
    first, second = epoch(sampler, dataset, 0), epoch(sampler, dataset, 1)
    pairs = lambda items: [(i['source'][1], i['target'][1]) for i in items]  # noqa: E731
    assert [s for s, _ in pairs(first)] != [t for _, t in pairs(first)]  # not paired i with i
    assert [s for s, _ in pairs(first)] != [s for s, _ in pairs(second)]
    assert set(pairs(first)) != set(pairs(second))  # the pairing itself changes
    # and the same epoch with the same seed is the same
    assert pairs(epoch(DomainAdaptationSampler(dataset, seed=0), dataset, 1)) == pairs(second)


def test_augmentation_randomness_depends_on_epoch_not_on_process():
    dataset = make()
    sampler = DomainAdaptationSampler(dataset, seed=1)
    draws = lambda items: [i['source'][2] for i in items]  # noqa: E731
    first = draws(epoch(sampler, dataset, 0))
    np.random.seed(12345)  # whatever the process's global state, the items are reproducible
    assert draws(epoch(sampler, dataset, 0)) == first
    assert draws(epoch(sampler, dataset, 1)) != first
    item = epoch(sampler, dataset, 0)[0]
    assert item['source'][2] != item['target'][2]  # the two domains draw differently


def test_ranks_take_disjoint_shards_of_the_same_epoch(monkeypatch):
    import mmpose_regda.datasets.domain_adaptation_sampler as module
    dataset = make(num_source=7, num_target=5)
    full = list(DomainAdaptationSampler(dataset, seed=4, round_up=False))
    shards = []
    for rank in (0, 1):
        monkeypatch.setattr(module, 'get_dist_info', lambda rank=rank: (rank, 2))
        sampler = DomainAdaptationSampler(dataset, seed=4)
        shards.append(list(sampler))
        assert len(sampler) == 4  # ceil(7 / 2), padded
    assert shards[0][:4] == full[0::2][:4] and shards[1][:3] == full[1::2]
    assert set(shards[0]).isdisjoint(full[1::2])


def test_sampler_refuses_other_datasets():
    with pytest.raises(TypeError, match='DomainAdaptationDataset'):
        DomainAdaptationSampler(ListDataset('x', 3), seed=0)
