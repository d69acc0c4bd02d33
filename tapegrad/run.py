"""Run an unmodified PyTorch program on tapegrad: `tapegrad run prog.py [args]` or
`python -m tapegrad.run prog.py [args]`.

An import hook resolves `torch`, its submodules and `torchvision` (datasets, transforms) to
tapegrad's modules; the program then runs as `python prog.py` would run it (sys.argv, __name__ ==
"__main__", its folder first on sys.path). A PyTorch name tapegrad lacks raises
NotImplementedError naming it.
"""
import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys
import traceback

__all__ = ["install", "uninstall", "main"]

_RENAMES = {"torchvision": "tapegrad.vision", "torchvision.datasets": "tapegrad.datasets",
            "torchvision.transforms": "tapegrad.transforms"}


def _target(fullname):
    if fullname in _RENAMES:
        return _RENAMES[fullname]
    for src, dst in _RENAMES.items():
        if fullname.startswith(src + "."):
            return dst + fullname[len(src):]
    return "tapegrad" + fullname[len("torch"):]


def _MissingModule(name):
    from . import _missing_module

    return _missing_module(name)


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        try:
            return importlib.import_module(self.target)
        except ModuleNotFoundError as exc:
            if exc.name and not self.target.startswith(exc.name) and exc.name != self.target:
                raise
            return _MissingModule(spec.name)

    def exec_module(self, module):
        pass


class _TorchFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        top = fullname.partition(".")[0]
        if top not in ("torch", "torchvision"):
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(_target(fullname)))


_FINDER = _TorchFinder()


_SHADOWED = {}  # real torch modules set aside while the hook is installed, restored by uninstall()


def _torch_names():
    return [n for n in sys.modules if n in ("torch", "torchvision") or n.startswith(("torch.", "torchvision."))]


class _InstallInChild:
    """Sent to each 'spawn' or 'forkserver' child process with multiprocessing's preparation data: unpickling
    it installs the hook there before the child re-imports the program, whose `import torch` would otherwise
    get the real torch (or none), e.g. in DataLoader workers with multiprocessing_context="spawn"."""

    def __reduce__(self):  # by its importable name: under `python -m tapegrad.run` this module is __main__
        return importlib.import_module("tapegrad.run").install, ()


_MP_SAVED = []  # (spawn.get_preparation_data, forkserver preload) replaced by install(), put back by uninstall()


def _patch_multiprocessing():
    from multiprocessing import forkserver, spawn

    original = spawn.get_preparation_data

    def get_preparation_data(name):
        data = original(name)
        data["tapegrad_run"] = _InstallInChild()  # keys multiprocessing does not know are ignored
        return data

    _MP_SAVED.append((original, forkserver._forkserver._preload_modules))
    spawn.get_preparation_data = get_preparation_data
    # the fork server would import the program without the hook; its children import it after unpickling
    forkserver.set_forkserver_preload(["tapegrad"])


def install():
    """Make `import torch` (and torchvision) resolve to tapegrad in this interpreter and in the processes
    it starts with multiprocessing."""
    if _FINDER not in sys.meta_path:
        for name in _torch_names():
            _SHADOWED[name] = sys.modules.pop(name)
        sys.meta_path.insert(0, _FINDER)
        if not _MP_SAVED:
            _patch_multiprocessing()


def uninstall():
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in _torch_names():
        del sys.modules[name]
    sys.modules.update(_SHADOWED)
    _SHADOWED.clear()
    if _MP_SAVED:
        from multiprocessing import forkserver, spawn

        spawn.get_preparation_data, forkserver._forkserver._preload_modules = _MP_SAVED.pop()


def _print_user_traceback(exc):
    """The traceback as `python prog.py` would print it: without tapegrad.run's and runpy's frames."""
    tb = exc.__traceback__
    here = os.path.abspath(__file__)
    while tb is not None and (os.path.abspath(tb.tb_frame.f_code.co_filename) == here or
                              tb.tb_frame.f_code.co_filename.endswith(("runpy.py", "<frozen runpy>"))):
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb)


def run_program(path, args):
    install()
    sys.argv = [path] + list(args)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        runpy.run_path(os.path.abspath(path), run_name="__main__")  # __file__ is absolute, as under `python`
    except SystemExit:
        raise
    except KeyboardInterrupt:
        return 130
    except BaseException as exc:  # the program's own error: show it as Python would
        if "tapegrad.distributed._mpi" in sys.modules:  # under mpirun: print once, end every rank (no hang)
            sys.modules["tapegrad.distributed._mpi"].abort_job(exc, lambda: _print_user_traceback(exc))
        _print_user_traceback(exc)
        return 1
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: tapegrad run PROGRAM.py [ARGS...]", file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    path = argv[0]
    if not os.path.isfile(path):
        print(f"tapegrad run: cannot open '{path}': no such file", file=sys.stderr)
        return 2
    return run_program(path, argv[1:])


if __name__ == "__main__":
    sys.exit(main())
