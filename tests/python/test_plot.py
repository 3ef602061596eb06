"""Tests of certconv.plot and `python3 -m certconv plot`: pictures of explain and
analyze documents in every format, the Figure's title and series, and exit 2
with a message naming the file for every kind of bad input. Run by meson test
with PYTHONPATH set to the build's lib/python; needs Matplotlib."""
import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

import certconv
from certconv import plot
from certconv._plot import DocumentError

MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF-"}


def inputs(seed=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 3, 12, 12)).astype(np.float32)
    w = rng.uniform(-0.2, 0.2, (8, 3, 3, 3)).astype(np.float32)
    return x, w


def explain_doc(f64=True):
    x, w = inputs()
    ya = certconv.run(x, w, padding=1, order="im2col")["y"]
    yb = certconv.run(x, w, padding=1, order="pairwise")["y"]
    # rtol this tight makes isclose(A, B) fail somewhere, so there are failures to ring.
    return certconv.explain(ya, yb, x, w, padding=1, names=("im2col", "pairwise"), rtol=1e-6, atol=0, f64=f64)


def analyze_doc():
    x, w = inputs()
    return certconv.analyze(x, w, padding=1, orders=["im2col", "kahan"], rtol=1e-6, atol=0)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "certconv", "plot", *args], capture_output=True, text=True)


class TestDocuments(unittest.TestCase):
    def test_samples_keep_the_worst_and_every_failure(self):
        doc = explain_doc()
        # More outputs than the cap, fewer failures than their share of it.
        self.assertGreater(doc["problem"]["outputs"], doc["observed"][0]["samples"]["cap"])
        self.assertTrue(0 < doc["isclose"]["failures"] < 500, doc["isclose"]["failures"])
        for o in doc["observed"]:
            s = o["samples"]
            self.assertEqual(s["outputs"], doc["problem"]["outputs"])
            self.assertEqual(len(s["flat_index"]), s["count"])
            self.assertEqual(len(s["cond"]), s["count"])
            self.assertAlmostEqual(max(s["norm_err"]), o["max_norm_err"], delta=o["max_norm_err"] * 5e-3)
            self.assertEqual(sum(s["isclose_failure"]), doc["isclose"]["failures"])
            # The order-free bound in norm_err units: gamma_n/u = n/(1 - n*u), n = 3*3*3.
            self.assertAlmostEqual(o["norm_bound"]["median"], 27 / (1 - 27 * 2.0**-24), places=3)


class TestFigure(unittest.TestCase):
    def test_explain_figure_title_and_series(self):
        doc = explain_doc()
        fig = plot(doc)
        ax = fig.axes[0]
        self.assertEqual(ax.get_title(loc="left").replace("\n", " "), doc["verdict"])
        series = [c for c in ax.collections if c.get_gid() == "series"]
        self.assertEqual(len(series), 4)  # A and B, in float32 and recomputed in float64
        rings = [c for c in ax.collections if c.get_gid() == "isclose-failures"]
        self.assertEqual(len(rings), 1)
        # Every failure is sampled; those with norm_err = 0 have no place on the log axis.
        placeable = sum(bool(f and e and c is not None) for o in doc["observed"] + doc["f64"]["observed"]
                        for c, e, f in zip(o["samples"]["cond"], o["samples"]["norm_err"],
                                           o["samples"]["isclose_failure"]))
        self.assertGreaterEqual(placeable, doc["isclose"]["failures"])
        self.assertEqual(len(rings[0].get_offsets()), placeable)
        self.assertEqual((ax.get_xscale(), ax.get_yscale()), ("log", "log"))
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        self.assertTrue(any(t.startswith("rigorous bound (order-free)") for t in labels), labels)

    def test_analyze_figure_from_a_path_into_given_axes(self):
        from matplotlib.figure import Figure

        doc = analyze_doc()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "a.json")
            with open(path, "w") as f:
                json.dump(doc, f)
            host = Figure()
            ax = host.add_subplot()
            self.assertIs(plot(path, ax=ax), host)
        self.assertEqual(len([c for c in ax.collections if c.get_gid() == "series"]), 2)
        self.assertEqual(ax.get_title(loc="left"), "Every output of im2col, kahan is within its rigorous bound.")
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        self.assertTrue(any(t.startswith("probabilistic bound of every series: ") for t in labels), labels)

    def test_bad_dict_raises_document_error(self):
        with self.assertRaisesRegex(DocumentError, "schema 'certconv.identify/1' cannot be plotted"):
            plot({"schema": "certconv.identify/1"})

    def test_import_certconv_does_not_import_matplotlib(self):
        code = "import sys, certconv; sys.exit('matplotlib' in sys.modules)"
        self.assertEqual(subprocess.run([sys.executable, "-c", code]).returncode, 0)


class TestCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.explain = os.path.join(cls.dir.name, "explain.json")
        cls.analyze = os.path.join(cls.dir.name, "analyze.json")
        for path, doc in ((cls.explain, explain_doc(f64=False)), (cls.analyze, analyze_doc())):
            with open(path, "w") as f:
                json.dump(doc, f)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_every_format_of_both_schemas(self):
        for doc in (self.explain, self.analyze):
            for ext in (".png", ".svg", ".pdf"):
                out = os.path.join(self.dir.name, "fig" + ext)
                r = run_cli(doc, "-o", out)
                self.assertEqual(r.returncode, 0, r.stderr)
                with open(out, "rb") as f:
                    data = f.read()
                self.assertGreater(len(data), 1000)
                if ext == ".svg":
                    self.assertIn(b"<svg", data[:1000])
                else:
                    self.assertTrue(data.startswith(MAGIC[ext]), data[:10])
                self.assertEqual([n for n in os.listdir(self.dir.name) if n.startswith(".certconv-plot-")], [])

    def assert_exit_2(self, doc, out, *needles):
        r = run_cli(doc, "-o", out)
        self.assertEqual(r.returncode, 2, r.stderr)
        for n in needles:
            self.assertIn(n, r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_bad_input_exits_2_naming_the_file(self):
        out = os.path.join(self.dir.name, "bad.png")
        missing = os.path.join(self.dir.name, "missing.json")
        self.assert_exit_2(missing, out, missing, "cannot read")
        self.assert_exit_2(self.write("broken.json", "{\"schema\": "), out, "broken.json", "not valid JSON")
        self.assert_exit_2(self.write("identify.json", json.dumps({"schema": "certconv.identify/1"})), out,
                           "identify.json", "certconv.identify/1")
        self.assert_exit_2(self.write("plain.json", "[1, 2]"), out, "plain.json", "not a certconv document")
        with open(self.explain) as f:
            doc = json.load(f)
        old = copy.deepcopy(doc)
        for o in old["observed"]:
            del o["samples"]
        self.assert_exit_2(self.write("old.json", json.dumps(old)), out, "old.json has no samples",
                           "observed[0].samples", "re-run explain/analyze")
        del doc["observed"]
        self.assert_exit_2(self.write("noobs.json", json.dumps(doc)), out, "noobs.json", "missing key 'observed'")

    def test_bad_output_exits_2(self):
        jpg = os.path.join(self.dir.name, "fig.jpg")
        r = run_cli(self.explain, "-o", jpg)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"-o {jpg}: unknown extension; use .png, .svg or .pdf", r.stderr)
        nowhere = os.path.join(self.dir.name, "no-such-dir", "fig.png")
        self.assert_exit_2(self.explain, nowhere, nowhere, "cannot write")

    def test_no_arguments_is_usage_error(self):
        r = subprocess.run([sys.executable, "-m", "certconv"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr)


if __name__ == "__main__":
    unittest.main()
