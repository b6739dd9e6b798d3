"""Run folders as labelled arrays, read through the folder's manifest.json.

A manifest (format "wholebrain-run/1", written by every wholebrain command) names each file's
kind, dimensions, units and shape, and the coordinates the dimensions share (region labels,
sample times in s, frequencies in Hz ...). `load` turns that into:
- arrays: `LabelledArray` (or `xarray.DataArray` when xarray is installed and asked for);
- tables: `pandas.DataFrame` when pandas is installed, else a dict of numpy columns;
- JSON documents: dicts.
"""
import csv
import glob
import json
import os
import re

import numpy as np

FORMAT = "wholebrain-run/1"


class LabelledArray:
    """A numpy array with named dimensions, coordinates per dimension and attributes (units,
    description): what xarray.DataArray holds, without needing xarray."""

    def __init__(self, values, dims, coords=None, attrs=None, name=None):
        self.values = np.asarray(values)
        self.dims = tuple(dims)
        if len(self.dims) != self.values.ndim:
            raise ValueError(f"{name or 'array'}: {len(self.dims)} dimension names {self.dims} for an array of shape {self.values.shape}")
        self.coords = dict(coords or {})
        self.attrs = dict(attrs or {})
        self.name = name

    shape = property(lambda self: self.values.shape)
    units = property(lambda self: self.attrs.get("units"))

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)

    def __getitem__(self, index):
        return self.values[index]

    def __len__(self):
        return len(self.values)

    def sel(self, **labels):
        """Selects by coordinate label or value: `fc.sel(region="Precentral_L")`."""
        index = [slice(None)] * self.values.ndim
        dims, coords = list(self.dims), dict(self.coords)
        for dim, label in labels.items():
            if dim not in self.dims:
                raise KeyError(f"{self.name}: no dimension {dim!r}; dimensions: {self.dims}")
            axis = self.dims.index(dim)
            where = np.flatnonzero(np.asarray(self.coords[dim]) == label)
            if where.size == 0:
                raise KeyError(f"{self.name}: {label!r} is not on dimension {dim!r}")
            index[axis] = int(where[0])
        kept = [d for d, i in zip(dims, index) if isinstance(i, slice)]
        return LabelledArray(self.values[tuple(index)], kept, {d: c for d, c in coords.items() if d in kept}, self.attrs, self.name)

    def to_xarray(self):
        import xarray as xr
        return xr.DataArray(self.values, dims=self.dims, coords={d: c for d, c in self.coords.items() if d in self.dims},
                            attrs=self.attrs, name=self.name)

    def __repr__(self):
        dims = ", ".join(f"{d}: {n}" for d, n in zip(self.dims, self.values.shape))
        units = f" [{self.units}]" if self.units else ""
        return f"<LabelledArray {self.name or ''} ({dims}){units}>"


class RunFolder:
    """One folder written by wholebrain. Arrays, tables and JSON documents are read when first
    asked for, by name without extension: `run.bold`, `run["fc"]`, `run.summary`, `run.history`.
    A series of numbered files (a sweep's points/point-NNNNN_fc.npy) is one array with a
    leading `point` dimension, named after its files (`run.points_fc`)."""

    def __init__(self, path, xarray=None):
        self.path = os.fspath(path)
        manifest_path = os.path.join(self.path, "manifest.json")
        if not os.path.isdir(self.path):
            raise FileNotFoundError(f"{self.path}: no such folder (a folder written by wholebrain simulate, analyze, fit, stability, sweep, protocol or collect)")
        if not os.path.exists(manifest_path):
            raise FileNotFoundError(f"{manifest_path}: missing; this folder was not written by wholebrain, or by a version before manifests "
                                    f"(run the command again, or `wholebrain report {self.path}` for a sweep)")
        with open(manifest_path) as f:
            self.manifest = json.load(f)
        if self.manifest.get("format") != FORMAT:
            raise ValueError(f"{manifest_path}: format {self.manifest.get('format')!r}; this reader knows {FORMAT!r}")
        self.command = self.manifest["command"]
        self.version = self.manifest.get("version")
        if xarray is None:
            try:
                import xarray as _  # noqa: F401
                xarray = True
            except ImportError:
                xarray = False
        self._xarray = xarray
        self.coords = {name: _coordinate(c) for name, c in self.manifest.get("coordinates", {}).items()}
        self._cache = {}

    @property
    def files(self):
        """The manifest's files: name -> entry (kind, description, dims, shape, units, columns)."""
        return self.manifest["files"]

    def names(self, kind=None):
        """The names `run[name]` reads, optionally only arrays, tables, json or reports."""
        return sorted(_key(f) for f, e in self.files.items() if (kind is None or e["kind"] == kind) and e["kind"] in ("array", "table", "json"))

    def __getitem__(self, name):
        if name not in self._cache:
            matches = [f for f in self.files if _key(f) == name]
            if not matches:
                raise KeyError(f"{self.path}: no {name!r}; it holds {', '.join(self.names())}")
            self._cache[name] = self._read(matches[0], self.files[matches[0]])
        return self._cache[name]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(str(e)) from None

    def __dir__(self):
        return list(super().__dir__()) + self.names()

    def __repr__(self):
        lines = [f"<wholebrain {self.command} folder {self.path}>"]
        for f, e in sorted(self.files.items()):
            shape = f" {tuple(e['shape'])}" if e.get("shape") else ""
            dims = f" ({', '.join(e['dims'])})" if e.get("dims") else ""
            units = f" [{e['units']}]" if e.get("units") else ""
            lines.append(f"  {_key(f)}: {e['kind']}{dims}{shape}{units} - {e['description']}")
        return "\n".join(lines)

    def subjects(self):
        """A collect folder's subjects that have a fit folder: subject -> RunFolder."""
        out = {}
        for entry in sorted(os.listdir(self.path)):
            sub = os.path.join(self.path, entry)
            if os.path.isdir(sub) and os.path.exists(os.path.join(sub, "manifest.json")):
                out[entry] = RunFolder(sub, xarray=self._xarray)
        return out

    def _read(self, file, entry):
        kind = entry["kind"]
        if kind == "array":
            return self._array(file, entry)
        path = os.path.join(self.path, file)
        if kind == "table":
            return _table(path, entry)
        if kind == "json":
            if file.endswith(".jsonl"):
                with open(path) as f:
                    return [json.loads(line) for line in f if line.strip()]
            with open(path) as f:
                return json.load(f)
        raise KeyError(f"{file}: a {kind}, not data")

    def _array(self, file, entry):
        dims = list(entry["dims"])
        attrs = {"units": entry.get("units"), "description": entry["description"], "file": file}
        if "NNNNN" in file:
            pattern = os.path.join(self.path, file.replace("NNNNN", "[0-9]" * 5))
            paths = sorted(glob.glob(pattern))
            points = [int(re.search(r"(\d{5})", os.path.basename(p)).group(1)) for p in paths]
            values = np.stack([np.load(p) for p in paths]) if paths else np.empty((0,) * (len(dims) + 1))
            dims = ["point"] + dims
            coords = {"point": np.asarray(points)}
        else:
            values = np.load(os.path.join(self.path, file))
            coords = {}
        if values.ndim != len(dims):
            raise ValueError(f"{os.path.join(self.path, file)}: shape {values.shape} does not match the manifest's dimensions {dims}")
        for axis, dim in enumerate(dims):
            c = self.coords.get(dim)
            if c is not None and len(c) == values.shape[axis]:
                coords[dim] = c
        array = LabelledArray(values, dims, coords, attrs, name=_key(file))
        return array.to_xarray() if self._xarray else array


def load(path, xarray=None):
    """Opens a run folder: `wholebrain.load("runs/demo-simulate").bold`.

    xarray: True returns arrays as xarray.DataArray, False as LabelledArray, None (default)
    uses xarray when it is installed."""
    return RunFolder(path, xarray=xarray)


def _key(file):
    """bold.npy -> bold; points/point-NNNNN_fc.npy -> points_fc; fold-1/scores.csv -> fold_1_scores."""
    stem = re.sub(r"\.(npy|csv|json|jsonl|html|toml)$", "", file)
    stem = stem.replace("point-NNNNN_", "")
    return re.sub(r"[^0-9A-Za-z]+", "_", stem).strip("_")


def _coordinate(c):
    if "labels" in c:
        return np.asarray(c["labels"])
    if "values" in c:
        return np.asarray(c["values"], dtype=float)
    return c["start"] + c["step"] * np.arange(c["count"])


def _table(path, entry):
    try:
        import pandas as pd
    except ImportError:
        pd = None
    if pd is not None:
        frame = pd.read_csv(path)
        frame.attrs["columns"] = entry.get("columns", {})
        frame.attrs["description"] = entry["description"]
        return frame
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    columns = {}
    for k, name in enumerate(header):
        cells = [r[k] if k < len(r) else "" for r in body]
        try:
            columns[name] = np.array([float(x) if x != "" else np.nan for x in cells])
        except ValueError:
            columns[name] = np.array(cells)
    return columns
