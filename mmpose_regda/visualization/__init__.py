from .side_by_side import render_side_by_side

__all__ = ['render_side_by_side']
