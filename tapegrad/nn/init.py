"""tapegrad.nn.init"""
