from .regda_hook import RegDAHook

__all__ = ['RegDAHook']
