"""Operator registry entries, one module per operator family; test_ops.py collects ALL_OPS."""
import importlib
import pkgutil

ALL_OPS = []
for _m in pkgutil.iter_modules(__path__):
    ALL_OPS.extend(importlib.import_module(f"{__name__}.{_m.name}").OPS)
