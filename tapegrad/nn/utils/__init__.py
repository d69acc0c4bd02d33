"""tapegrad.nn.utils"""
