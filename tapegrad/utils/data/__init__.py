"""tapegrad.utils.data"""
