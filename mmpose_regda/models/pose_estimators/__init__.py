from .regda import RegDAPoseEstimator

__all__ = ['RegDAPoseEstimator']
