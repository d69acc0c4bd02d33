"""tapegrad.utils"""
