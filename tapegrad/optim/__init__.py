"""tapegrad.optim"""
