"""`tapegrad run` and the `tapegrad` command: PyTorch programs unchanged, truthful devices, clear errors."""
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(args, cwd, **kw):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120,
                          **kw)


def _write(tmp_path, name, code):
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return path


def test_program_sees_tapegrad_as_torch_with_argv_main_and_relative_paths(tmp_path):
    (tmp_path / "data.txt").write_text("41")
    _write(tmp_path, "helper_mod.py", "VALUE = 1\n")
    prog = _write(tmp_path, "prog.py", """
        import sys
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.utils.data import DataLoader
        import torchvision
        from torchvision import datasets, transforms
        import helper_mod
        print("module", torch.__name__, nn.__name__, F.__name__)
        print("argv", sys.argv[1:])
        print("main", __name__)
        print("data", int(open("data.txt").read()) + helper_mod.VALUE)
        print("cuda", torch.cuda.is_available(), torch.backends.mps.is_available(), torch.accelerator.is_available())
        x = torch.randn(3, requires_grad=True)
        (x * 2).sum().backward()
        print("grad", x.grad.tolist())
        torch.backends.cuda.matmul.allow_tf32 = True
        try:
            torch.device("cuda"); torch.zeros(1, device="cuda")
        except AssertionError as e:
            print("nocuda", e)
    """)
    out = _run(["-m", "tapegrad.run", str(prog), "--lr", "0.1"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.strip().splitlines())
    assert lines["module"] == "tapegrad tapegrad.nn tapegrad.nn.functional"
    assert lines["argv"] == "['--lr', '0.1']"
    assert lines["main"] == "__main__"
    assert lines["data"] == "42"
    assert lines["cuda"] == "False False False"
    assert lines["grad"] == "[2.0, 2.0, 2.0]"
    assert "Torch not compiled with CUDA enabled" in lines["nocuda"]


def test_missing_function_names_the_full_pytorch_name(tmp_path):
    prog = _write(tmp_path, "p.py", "import torch\nx = torch.ones(4)\ntorch.fft.rfft(x)\n")
    out = _run(["-m", "tapegrad", "run", str(prog)], cwd=tmp_path)
    assert out.returncode == 1
    assert "NotImplementedError: tapegrad does not implement torch.fft.rfft" in out.stderr
    assert 'File "' + str(prog) + '", line 3' in out.stderr  # the user's frame, as Python prints it
    assert "runpy" not in out.stderr


def test_script_errors_show_the_python_traceback_and_exit_nonzero(tmp_path):
    prog = _write(tmp_path, "bad.py", "def f():\n    raise ValueError('boom')\nf()\n")
    out = _run(["-m", "tapegrad.run", str(prog)], cwd=tmp_path)
    assert out.returncode == 1
    assert "ValueError: boom" in out.stderr and "line 2, in f" in out.stderr
    out = _run(["-m", "tapegrad.run", str(tmp_path / "prog_exit.py")], cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "no such file" in out.stderr
    _write(tmp_path, "ex.py", "import sys\nsys.exit(3)\n")
    assert _run(["-m", "tapegrad.run", str(tmp_path / "ex.py")], cwd=tmp_path).returncode == 3


def test_cli_usage_and_unknown_command(tmp_path):
    out = _run(["-m", "tapegrad", "frobnicate"], cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.strip().count("\n") == 0 and "unknown command" in out.stderr
    out = _run(["-m", "tapegrad", "info"], cwd=tmp_path)
    assert out.returncode == 0 and "numpy" in out.stdout and "devices" in out.stdout


def test_import_hook_in_process():
    from tapegrad import run

    run.install()
    try:
        import torch  # noqa: F401  (resolved by the hook)
        import torch.optim  # noqa: F401

        import tapegrad

        assert sys.modules["torch"] is tapegrad
        with pytest.raises(NotImplementedError, match="torch.fft.fft"):
            sys.modules["torch"].fft.fft
    finally:
        run.uninstall()
    assert sys.modules.get("torch") is not __import__("tapegrad")
