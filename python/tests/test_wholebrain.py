"""The Python side against folders the binary writes here, in the test: every command's
manifest describes its files truly (shapes, dimensions, coordinates), and the loader and runner
behave as the README says. Run by `make test` (python3 -m unittest discover -s python/tests).

The binary: $WHOLEBRAIN_BIN, else .build/release/wholebrain of this checkout."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
os.environ.setdefault("WHOLEBRAIN_BIN", os.path.join(ROOT, ".build", "release", "wholebrain"))

import wholebrain  # noqa: E402

try:
    import xarray  # noqa: F401
    HAS_XARRAY = True
except ImportError:
    HAS_XARRAY = False


class RunFolders(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="wholebrain-python-")
        cls.cwd = os.getcwd()
        os.chdir(ROOT)  # data/hcp is found relative to the checkout, as in the README
        out = lambda name: os.path.join(cls.work, name)
        cls.sim = wholebrain.simulate(out=out("sim"), subject="101309", duration=30, save_states=500)
        cls.ana = wholebrain.analyze(os.path.join(out("sim"), "bold.npy"), out=out("ana"))
        cls.fit = wholebrain.fit(out=out("fit"), subject="101309", fit="G", epochs=1, duration=20, identifiability_seeds=0)
        cls.stab = wholebrain.stability(out=out("stab"), subject="101309", range="0.3:0.7", steps=12)
        job = out("sweep.toml")
        with open(job, "w") as f:
            f.write(textwrap.dedent("""\
                model = "rww"
                subject = "101309"
                duration = 30
                seeds = [1]
                metrics = ["fc_r", "rate_E"]
                [[axes]]
                parameter = "G"
                values = [0.3, 0.5]
                """))
        cls.sweep = wholebrain.sweep(job, out=out("sweep"))

    @classmethod
    def tearDownClass(cls):
        os.chdir(cls.cwd)
        shutil.rmtree(cls.work, ignore_errors=True)

    def load(self, folder, xarray=False):
        return wholebrain.load(folder.path, xarray=xarray)

    def test_every_manifest_array_matches_its_file(self):
        for folder in (self.sim, self.ana, self.fit, self.stab, self.sweep):
            run = self.load(folder)
            self.assertEqual(run.manifest["format"], wholebrain.FORMAT)
            self.assertTrue(run.names("array"), f"{run.path}: no arrays")
            for name in run.names("array"):
                a = run[name]
                entry = next(e for f, e in run.files.items() if wholebrain.folder._key(f) == name)
                if "shape" in entry:
                    self.assertEqual(list(a.shape), entry["shape"], f"{run.path}: {name}")
                self.assertEqual(a.values.ndim, len(a.dims))
                for dim, coord in a.coords.items():
                    self.assertEqual(len(coord), a.shape[a.dims.index(dim)], f"{name}: {dim}")
                self.assertTrue(a.attrs["description"])

    def test_simulate_folder_is_labelled(self):
        run = self.load(self.sim)
        summary = run.summary
        self.assertEqual(run.command, "simulate")
        bold = run.bold
        self.assertEqual(bold.dims, ("time", "region"))
        self.assertEqual(list(bold.coords["region"]), summary["region_labels"])
        tr = summary["tr_s"]
        np.testing.assert_allclose(bold.coords["time"], tr * np.arange(1, bold.shape[0] + 1))
        self.assertIn("fractional", bold.units)
        fc = run.fc
        self.assertEqual(fc.dims, ("region", "region_to"))
        np.testing.assert_allclose(np.diag(fc.values), 1, atol=1e-12)
        # Selecting by label gives that region's row, and the FC of bold.npy is fc.npy.
        row = fc.sel(region="Precentral_L")
        k = list(summary["region_labels"]).index("Precentral_L")
        np.testing.assert_array_equal(row.values, fc.values[k])
        np.testing.assert_allclose(np.corrcoef(bold.values.T), fc.values, atol=1e-10)
        states = run.states
        self.assertEqual(states.dims, ("state_time", "variable", "region"))
        self.assertEqual(list(states.coords["variable"]), ["S_E", "S_I"])
        self.assertEqual(run.fic_J_i.units, "nA")

    def test_analyze_reads_labels_from_the_run_folder(self):
        run = self.load(self.ana)
        self.assertEqual(list(run.psd.coords["region"]), list(self.load(self.sim).bold.coords["region"]))
        np.testing.assert_array_equal(run.psd.coords["frequency"], run.freqs.values)
        self.assertEqual(run.fcd.dims, ("fcd_window", "fcd_window_to"))
        self.assertIn("synchrony", run.metrics)

    def test_fit_tables_and_parameters(self):
        run = self.load(self.fit)
        history = run.history
        columns = list(history.keys()) if isinstance(history, dict) else list(history.columns)
        self.assertIn("loss", columns)
        self.assertIn("G", columns)
        self.assertIn("G", run.params["fitted"])
        described = next(e for f, e in run.files.items() if f == "history.csv")["columns"]
        self.assertIn("G", described)
        self.assertEqual(run.fc_sim.dims, ("region", "region_to"))

    def test_stability_and_sweep(self):
        stab = self.load(self.stab)
        self.assertEqual(stab.eigenvalues.dims, ("point", "eigenvalue", "part"))
        branch = stab.branch
        np.testing.assert_allclose(stab.eigenvalues.coords["point"], [b["G"] for b in branch])
        sweep = self.load(self.sweep)
        fcs = sweep.points_fc
        self.assertEqual(fcs.dims, ("point", "region", "region_to"))
        self.assertEqual(list(fcs.coords["point"]), [0, 1])
        results = sweep.results
        g = results["G"] if isinstance(results, dict) else results["G"].to_numpy()
        np.testing.assert_allclose(sorted(g), [0.3, 0.5])
        self.assertIn("Hz", next(e for f, e in sweep.files.items() if f == "results.csv")["columns"]["rate_E"])

    @unittest.skipUnless(HAS_XARRAY, "xarray not installed")
    def test_xarray(self):
        bold = wholebrain.load(self.sim.path, xarray=True).bold
        self.assertEqual(bold.dims, ("time", "region"))
        self.assertEqual(bold.attrs["units"], self.load(self.sim).bold.units)
        self.assertEqual(float(bold.sel(region="Precentral_L").isel(time=0)), float(self.load(self.sim).bold.sel(region="Precentral_L")[0]))

    def test_errors_name_what_is_wrong(self):
        with self.assertRaises(FileNotFoundError) as e:
            wholebrain.load(self.work)
        self.assertIn("manifest.json", str(e.exception))
        with self.assertRaises(wholebrain.WholeBrainError) as e:
            wholebrain.simulate(out=os.path.join(self.work, "bad"), subject="101309", duration=-1)
        self.assertIn("duration", str(e.exception))
        self.assertFalse(os.path.exists(os.path.join(self.work, "bad")))
        with self.assertRaises(KeyError) as e:
            self.load(self.sim)["nothing"]
        self.assertIn("bold", str(e.exception))

    def test_arguments(self):
        self.assertEqual(wholebrain.arguments(per_region="I_0=x.npy", quick=True, skip=False, cases=[1, 2], seed=None),
                         ["--per-region", "I_0=x.npy", "--quick", "--cases", "1,2"])


if __name__ == "__main__":
    unittest.main()


class ExamplesAndInstall(unittest.TestCase):
    """examples/*.py run as the README shows them (shortened where they take options) and
    draw their figures; `pip install ./python` installs the package as the README says."""

    def readme(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            return f.read()

    def test_readme_examples_draw_their_figures(self):
        # The README's `python3 examples/...` lines exactly as written (comments dropped), from
        # the checkout's top folder: each draws OUT/<name>.png.
        lines = [line.split("#")[0].strip() for line in self.readme().splitlines() if line.startswith("python3 examples/")]
        self.assertEqual(len(lines), 3, lines)
        for line in lines:
            done = subprocess.run(line, shell=True, cwd=ROOT, capture_output=True, text=True)
            self.assertEqual(done.returncode, 0, f"{line}: {done.stderr}")
            words = line.split()
            out, name = words[words.index("--out") + 1], os.path.basename(words[1]).replace(".py", ".png")
            path = os.path.join(ROOT, out, name)
            with open(path, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", path)
            self.assertGreater(os.path.getsize(path), 20_000, f"{path}: an empty figure?")

    def test_readme_python_block_runs(self):
        text = self.readme()
        start = text.index("```python\nimport wholebrain\n") + len("```python\n")
        block = text[start:text.index("```", start)]
        done = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, 'python')\n" + block], cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        self.assertIn("region", done.stdout)

    def test_tables_without_pandas(self):
        work = tempfile.mkdtemp(prefix="wholebrain-table-")
        try:
            path = os.path.join(work, "t.csv")
            with open(path, "w") as f:
                f.write("subject,fc_r,error\n101309,0.5,\n102311,,\"failed\"\n")
            saved = sys.modules.get("pandas")
            sys.modules["pandas"] = None  # import pandas now raises ImportError
            try:
                table = wholebrain.folder._table(path, {"description": "t"})
            finally:
                if saved is None:
                    del sys.modules["pandas"]
                else:
                    sys.modules["pandas"] = saved
            self.assertEqual(list(table), ["subject", "fc_r", "error"])
            np.testing.assert_array_equal(table["subject"], [101309, 102311])
            self.assertTrue(np.isnan(table["fc_r"][1]))
            self.assertEqual(list(table["error"]), ["", "failed"])
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_pip_install_as_the_readme_says(self):
        # The README's command, exactly, from the checkout's top folder; then the installed
        # package (not this checkout's python/ folder) is imported from elsewhere.
        done = subprocess.run("pip install ./python", shell=True, cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])
        check = subprocess.run([sys.executable, "-c", "import wholebrain, sys; print(wholebrain.__file__); print(wholebrain.__version__)"],
                               cwd=tempfile.gettempdir(), capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertNotIn(os.path.join(ROOT, "python"), check.stdout)
        self.assertIn("0.1.0", check.stdout)
