"""Layer operators: linear, bilinear, embedding, one_hot, normalize, pad, interpolate."""
__all__ = []
