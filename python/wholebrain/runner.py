"""Runs the wholebrain binary from Python: `wholebrain.simulate(out="runs/sim", subject="101309")`
calls `wholebrain simulate --out runs/sim --subject 101309` and returns the loaded folder.

Keyword arguments become options: underscores turn into dashes (`per_region=...` is
`--per-region`), True is a bare flag, False and None are left out, lists and tuples are
joined by commas. A failed run raises `WholeBrainError` carrying the program's error line.
"""
import os
import shutil
import subprocess

from .folder import load


class WholeBrainError(RuntimeError):
    """The binary exited non-zero; `stderr` holds what it said."""

    def __init__(self, argv, code, stderr):
        self.argv, self.code, self.stderr = argv, code, stderr
        errors = [line for line in stderr.splitlines() if "error" in line.lower()] or stderr.strip().splitlines()[-1:]
        super().__init__(f"{' '.join(argv)} exited with {code}: {' / '.join(errors)}")


def binary():
    """The wholebrain program: $WHOLEBRAIN_BIN, `wholebrain` on the PATH, or
    .build/release/wholebrain under the current folder (a built checkout)."""
    candidates = [os.environ.get("WHOLEBRAIN_BIN"), shutil.which("wholebrain"), os.path.join(os.getcwd(), ".build", "release", "wholebrain")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise FileNotFoundError("no wholebrain program: set WHOLEBRAIN_BIN, put wholebrain on the PATH (make install), "
                            "or work in a built checkout (make build)")


def arguments(**options):
    """Command-line words for keyword options, in the order given."""
    words = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            words.append(flag)
        elif isinstance(value, (list, tuple)):
            words += [flag, ",".join(str(v) for v in value)]
        else:
            words += [flag, str(value)]
    return words


def run(command, *positional, out=None, quiet=True, **options):
    """Runs `wholebrain COMMAND POSITIONAL... --out OUT --options...`; returns the folder
    (`load(out)`) when there is one, else the program's standard output."""
    argv = [binary(), command] + [str(p) for p in positional] + arguments(out=out, **options)
    if quiet and command not in ("report", "collect"):
        argv.append("--quiet")
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise WholeBrainError(argv, done.returncode, done.stderr)
    return load(out) if out is not None else done.stdout


def simulate(out, **options):
    """`wholebrain simulate`: e.g. simulate(out="runs/sim", subject="101309", duration=120, G=0.5)."""
    return run("simulate", out=out, **options)


def analyze(input, out, **options):
    """`wholebrain analyze INPUT`: a BOLD file (time x regions) or a subject id."""
    return run("analyze", input, out=out, **options)


def fit(out, **options):
    """`wholebrain fit`: e.g. fit(out="runs/fit", subject="101309", fit="G", epochs=6)."""
    return run("fit", out=out, **options)


def stability(out, **options):
    """`wholebrain stability`: the bifurcation diagram and G*."""
    return run("stability", out=out, **options)


def sweep(job, out, **options):
    """`wholebrain sweep JOB.toml`."""
    return run("sweep", job, out=out, **options)


def protocol(out, **options):
    """`wholebrain protocol`: train / validation / test over subjects."""
    return run("protocol", out=out, **options)
