"""WholeBrain from Python: `load` reads a run folder as labelled arrays (through its
manifest.json), and `simulate`, `analyze`, `fit`, `stability`, `sweep` and `protocol` run the
wholebrain binary and return the folder it wrote."""
from .folder import FORMAT, LabelledArray, RunFolder, load
from .runner import WholeBrainError, analyze, arguments, binary, fit, protocol, run, simulate, stability, sweep

__version__ = "0.1.0"
__all__ = ["FORMAT", "LabelledArray", "RunFolder", "WholeBrainError", "analyze", "arguments", "binary", "fit", "load", "protocol",
           "run", "simulate", "stability", "sweep"]
