"""nn modules, one file per family as in PyTorch (torch/nn/modules/)."""
