from .domain_adaptation_dataset import DomainAdaptationDataset

__all__ = ['DomainAdaptationDataset']
