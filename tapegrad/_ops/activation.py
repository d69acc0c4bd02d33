"""activation operators (see DESIGN.md: forward and backward side by side)."""
__all__ = []
