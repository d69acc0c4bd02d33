"""The `tapegrad` command: run, info, experiment."""
import sys

USAGE = """usage: tapegrad COMMAND [ARGS...]

commands:
  run PROGRAM.py [ARGS...]   run an unmodified PyTorch program on tapegrad
  info                       versions, BLAS and threads, devices, where datasets are found
  experiment NAME [OPTIONS]  the course's experiments (tapegrad experiment --help lists them)
"""


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "run":
        from .run import main as run_main

        return run_main(rest)
    if cmd == "info":
        from .info import main as info_main

        return info_main(rest)
    if cmd == "experiment":
        try:
            from .experiments import main as exp_main
        except ImportError:
            print("tapegrad experiment: the experiments are not available in this version", file=sys.stderr)
            return 2
        return exp_main(rest)
    print(f"tapegrad: unknown command '{cmd}' (expected run, info or experiment)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
