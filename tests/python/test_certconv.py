"""Tests of the Python module (import certconv): every function, the errors for
bad arguments, and bit-for-bit agreement with the CLI (CERTCONV_BIN) on the
truth and on an order's observed output. Run by meson test with PYTHONPATH set
to the build's lib/python; works under pytest and unittest."""
import ctypes
import ctypes.util
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import unittest

import numpy as np

import certconv


def inputs(dtype=np.float32, seed=1, shape=((2, 4, 7, 6), (5, 4, 3, 3))):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape[0]).astype(dtype)
    w = rng.uniform(-1 / 6, 1 / 6, shape[1]).astype(dtype)
    b = rng.uniform(-1 / 6, 1 / 6, shape[1][0]).astype(dtype)
    return x, w, b


def ref_conv(x, w, b, stride, padding, dilation, groups):
    """float64 NumPy convolution with PyTorch's conventions, to check the mapping
    of the arguments (not the rounding)."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.zeros((n, o, oh, ow))
    og = o // groups
    for g in range(groups):
        for ky in range(kh):
            for kx in range(kw):
                patch = xp[:, g * cg:(g + 1) * cg, ky * dh:ky * dh + sh * (oh - 1) + 1:sh,
                           kx * dw:kx * dw + sw * (ow - 1) + 1:sw]
                y[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch, w[g * og:(g + 1) * og, :, ky, kx])
    if b is not None:
        y += b.astype(np.float64)[None, :, None, None]
    return y


def bits(a):
    """The raw bits, so that equality is bit-for-bit (-0.0 != 0.0, NaN == NaN)."""
    return np.ascontiguousarray(a).view(np.uint8)


class FakeTensor:
    """Duck-types a CPU torch tensor: .detach().cpu().numpy()."""

    def __init__(self, a):
        self.a = a

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return self.a


class TestTruth(unittest.TestCase):
    def test_fields_and_values(self):
        x, w, b = inputs()
        t = certconv.truth(x, w, b, padding=1)
        self.assertEqual(t["spec"], "g1mb2ic4ih7iw6oc5oh7ow6kh3kw3sh1sw1ph1pw1dh0dw0")
        for k in ("y", "lo", "hi", "absdot", "cond"):
            self.assertEqual(t[k].shape, (2, 5, 7, 6), k)
            self.assertEqual(t[k].dtype, np.float64, k)
        self.assertEqual(t["y32"].dtype, np.float32)
        self.assertTrue(np.all(t["lo"] <= t["y"]) and np.all(t["y"] <= t["hi"]))
        self.assertTrue(np.all(t["hi"] - t["lo"] <= 1e-15 * t["absdot"]))
        np.testing.assert_array_equal(t["cond"], t["absdot"] / np.abs(t["y"]))
        ref = ref_conv(x, w, b, (1, 1), (1, 1), (1, 1), 1)
        self.assertTrue(np.all(np.abs(ref - t["y"]) <= 1e-13 * t["absdot"]))
        self.assertEqual(t["exact_zeros"], 0)
        self.assertEqual(t["undetermined"], 0)

    def test_fields_asked_for(self):
        x, w, b = inputs()
        full = certconv.truth(x, w, b, padding=1)
        for method in ("auto", "exact"):
            y_only = certconv.truth(x, w, b, padding=1, fields="y", method=method)
            self.assertEqual(set(y_only), {"spec", "y", "exact_zeros", "undetermined", "kernel"}, method)
            np.testing.assert_array_equal(y_only["y"], full["y"])
            some = certconv.truth(x, w, b, padding=1, fields=("lo", "cond"), method=method)
            self.assertEqual(set(some) - {"spec", "exact_zeros", "undetermined", "kernel"}, {"y", "lo", "cond"})
            np.testing.assert_array_equal(some["lo"], full["lo"])
            np.testing.assert_array_equal(some["cond"], full["cond"])
        dw = certconv.truth(x, w.shape, padding=1, direction="bwd_w", dy=full["y32"], fields="y")
        self.assertEqual(set(dw) & {"absdot", "cond", "lo"}, set())
        np.testing.assert_array_equal(dw["y"], certconv.truth(x, w.shape, padding=1, direction="bwd_w",
                                                             dy=full["y32"])["y"])
        with self.assertRaisesRegex(ValueError, "fields: unknown field 'abs'"):
            certconv.truth(x, w, fields=["y", "abs"])

    def test_pytorch_arguments(self):
        x, w, _ = inputs(np.float64, shape=((1, 4, 9, 11), (6, 2, 3, 2)))
        args = dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)
        t = certconv.truth(x, w, **args)
        self.assertEqual(t["spec"], "g2mb1ic4ih9iw11oc6oh5ow9kh3kw2sh2sw1ph1pw0dh0dw1")
        ref = ref_conv(x, w, None, args["stride"], args["padding"], args["dilation"], 2)
        self.assertEqual(ref.shape, t["y"].shape)
        self.assertTrue(np.all(np.abs(ref - t["y"]) <= 1e-13 * t["absdot"]))
        # ints and numpy ints for pairs
        t2 = certconv.truth(x, w, stride=(np.int64(2), 1), padding=[1, 0], dilation=(1, 2), groups=np.int32(2))
        np.testing.assert_array_equal(t["y"], t2["y"])

    def test_methods(self):
        x, w, b = inputs()
        t = certconv.truth(x, w, b, padding=1, method="mpfi")
        e = certconv.truth(x, w, b, padding=1, method="exact")
        a = certconv.truth(x, w, b, padding=1)
        for k in ("y", "y32", "lo", "hi", "absdot"):
            self.assertTrue(np.array_equal(bits(a[k]), bits(e[k])), k)
        self.assertTrue(np.all(t["lo"] <= e["lo"]) and np.all(e["hi"] <= t["hi"]))

    def test_integer_method(self):
        # A layer wide enough that auto takes the integer method where the CPU can.
        x, w, b = inputs(shape=((1, 40, 9, 8), (36, 40, 3, 3)))
        try:
            i = certconv.truth(x, w, b, padding=1, method="integer")
        except ValueError as e:
            self.assertRegex(str(e), "integer truth: this CPU has no AVX-512 VNNI")
            self.skipTest(str(e))
        e = certconv.truth(x, w, b, padding=1, method="exact")
        a = certconv.truth(x, w, b, padding=1)
        f = certconv.truth(x, w, b, padding=1, method="binary64")
        for k in ("y", "y32", "lo", "hi", "absdot", "cond"):
            for name, t in (("integer", i), ("auto", a), ("binary64", f)):
                self.assertTrue(np.array_equal(bits(t[k]), bits(e[k])), f"{name} {k}")
        self.assertRegex(i["kernel"], r"^integer, \d+ moduli$")
        self.assertEqual((f["kernel"], e["kernel"]), ("binary64", "exact"))
        self.assertEqual(a["kernel"], "binary64")  # 360 terms: auto keeps the binary64 kernel
        with self.assertRaisesRegex(ValueError, "integer truth: grouped convolutions are not supported"):
            certconv.truth(x, w[:, :20], b, padding=1, groups=2, method="integer")
        with self.assertRaisesRegex(ValueError, "truth method integer: binary32 inputs only"):
            certconv.truth(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), padding=1,
                           method="integer")


class TestRun(unittest.TestCase):
    def test_order_output_is_within_its_bound(self):
        x, w, b = inputs()
        t = certconv.truth(x, w, b, padding=1)
        r = certconv.run(x, w, b, padding=1, order="im2col")
        self.assertEqual(r["y"].dtype, np.float32)
        self.assertEqual(r["dtype"], "f32")
        self.assertEqual(r["order"], "im2col:fma=0,input=f32")
        self.assertTrue(r["bound_kind"])
        self.assertEqual(r["bound"].dtype, np.float64)
        err = np.abs(r["y"].astype(np.float64) - t["y"])
        self.assertTrue(np.all(err <= r["bound"]))
        self.assertGreater(err.max(), 0)

    def test_dtype_f64_and_no_bound(self):
        x, w, b = inputs()
        r = certconv.run(x, w, b, padding=1, order="pairwise", dtype="f64", bound=False)
        self.assertEqual(r["y"].dtype, np.float64)
        self.assertIsNone(r["bound"])
        with self.assertRaisesRegex(ValueError, "dtype='f32' needs float32 inputs"):
            certconv.run(*inputs(np.float64), order="im2col", dtype="f32")

    def test_reduced_precision_inputs(self):
        x, w, b = inputs()
        t = certconv.truth(x, w, b, padding=1)
        r = certconv.run(x, w, b, padding=1, order="im2col:input=bf16")
        self.assertIn("input-rounding", r["bound_kind"])
        self.assertTrue(np.all(np.abs(r["y"] - t["y"]) <= r["bound"]))

    def test_order_names(self):
        names = certconv.order_names()
        for n in ("direct", "im2col", "pairwise", "kahan", "winograd"):
            self.assertIn(n, names)


class TestAnalyzeExplain(unittest.TestCase):
    def test_analyze_document(self):
        x, w, b = inputs()
        mine = certconv.run(x, w, b, padding=1, order="kahan")["y"]
        doc = certconv.analyze(x, w, b, padding=1, orders=["im2col", "direct:fma=1"], observed={"mine": mine})
        self.assertEqual(doc["schema"], "certconv.analyze/1")
        self.assertEqual(doc["problem"]["desc"], certconv.truth(x, w, b, padding=1)["spec"])
        self.assertEqual(doc["inputs"]["source"], "python")
        arrays = doc["inputs"]["arrays"]
        for name, a in (("x", x), ("w", w), ("bias", b)):
            self.assertEqual(arrays[name]["sha256"], hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest())
            self.assertEqual(arrays[name]["shape"], list(a.shape))
        self.assertEqual(arrays["observed"]["mine"]["sha256"], hashlib.sha256(mine.tobytes()).hexdigest())
        self.assertEqual(arrays["observed"]["mine"]["dtype"], "f32" if mine.dtype == np.float32 else "f64")
        self.assertEqual([o["name"] for o in doc["observed"]], ["im2col", "direct:fma=1", "mine"])
        self.assertEqual(doc["observed"][2]["kind"], "file")
        self.assertEqual(doc["observed"][2]["params"], "<array>")
        self.assertEqual(doc["parameters"]["observed_files"], [["mine", "<array>"]])
        self.assertEqual(doc["status"]["violations"], 0)
        for o in doc["observed"]:
            self.assertGreater(o["max_norm_err"], 0)
            self.assertLessEqual(o["max_tightness"], 1)
        self.assertIn("cond", doc["truth"])

    def test_analyze_all_and_violation(self):
        x, w, b = inputs()
        bad = certconv.run(x, w, b, padding=1, order="im2col")["y"]
        bad[0, 1, 2, 3] += 0.01
        doc = certconv.analyze(x, w, b, padding=1, orders="all", observed={"bad": bad})
        names = [o["name"] for o in doc["observed"]]
        self.assertIn("winograd", names)
        self.assertEqual(doc["status"]["violations"], 1)
        self.assertEqual(doc["status"]["exit_code"], 1)
        self.assertEqual(doc["observed"][-1]["violating"][0]["index"], [0, 1, 2, 3])

    def test_explain_document(self):
        x, w, b = inputs()
        ya = certconv.run(x, w, b, padding=1, order="im2col")["y"]
        yb = certconv.run(x, w, b, padding=1, order="pairwise")["y"]
        doc = certconv.explain(ya, yb, x, w, b, padding=1, names=("im2col", "pairwise"), f64=True)
        self.assertEqual(doc["schema"], "certconv.explain/1")
        self.assertEqual(doc["consistent_with_some_order"], {"im2col": True, "pairwise": True})
        self.assertTrue(doc["verdict"].startswith("No bug"))
        self.assertEqual(doc["parameters"]["f64_orders"], ["im2col", "pairwise"])
        self.assertLess(doc["f64"]["certified_tolerance"]["atol"], doc["certified_tolerance"]["atol"])
        yb[1, 4, 6, 5] += 0.05
        doc = certconv.explain(ya, yb, x, w, b, padding=1)
        self.assertFalse(doc["consistent_with_some_order"]["B"])
        self.assertIn("[1, 4, 6, 5]", doc["verdict"])

    def test_explain_same_keys_as_cli(self):
        cli = os.environ.get("CERTCONV_BIN")
        if not cli:
            self.skipTest("CERTCONV_BIN not set")
        x, w, b = inputs()
        ya = certconv.run(x, w, b, padding=1, order="im2col")["y"]
        yb = certconv.run(x, w, b, padding=1, order="direct")["y"]
        with tempfile.TemporaryDirectory() as d:
            paths = {}
            for name, a in dict(x=x, w=w, bias=b, a=ya, b=yb).items():
                paths[name] = os.path.join(d, name + ".npy")
                np.save(paths[name], a)
            spec = certconv.truth(x, w, b, padding=1)["spec"]
            subprocess.run([cli, "explain", "--spec", spec, "--x", paths["x"], "--w", paths["w"], "--bias",
                            paths["bias"], paths["a"], paths["b"], "--json", os.path.join(d, "e.json")],
                           check=True, capture_output=True)
            import json
            with open(os.path.join(d, "e.json")) as f:
                want = json.load(f)
        got = certconv.explain(ya, yb, x, w, b, padding=1)

        def keys(j, prefix=""):
            out = set()
            if isinstance(j, dict):
                for k, v in j.items():
                    out.add(prefix + k)
                    out |= keys(v, prefix + k + ".")
            return out

        skip = ("inputs.", "created_utc", "machine.")
        self.assertEqual({k for k in keys(got) if not k.startswith(skip)},
                         {k for k in keys(want) if not k.startswith(skip)})
        self.assertEqual(got["verdict"], want["verdict"])
        self.assertEqual(got["certified_tolerance"], want["certified_tolerance"])


class TestTolerance(unittest.TestCase):
    def test_certified_tolerance(self):
        x, w, b = inputs()
        c = certconv.certified_tolerance(x, w, b, padding=1)
        self.assertEqual(c["per_element"].shape, (2, 5, 7, 6))
        self.assertEqual(c["atol"], c["per_element"].max())
        self.assertEqual(c["bound_kind"], "order-free")
        t = certconv.truth(x, w, b, padding=1)
        self.assertGreaterEqual(c["rtol"], (c["per_element"] / np.abs(t["y"])).max())
        c64 = certconv.certified_tolerance(x, w, b, padding=1, dtype="f64")
        self.assertLess(c64["atol"], c["atol"] * 2.0**-28)
        bf = certconv.certified_tolerance(x, w, b, padding=1, tolerance="any-order:input=bf16")
        self.assertEqual(bf["bound_kind"], "order-free+input-rounding")
        self.assertGreater(bf["atol"], 10 * c["atol"])

    def test_check_conv_and_assert_conv_close(self):
        x, w, b = inputs()
        r = certconv.run(x, w, b, padding=1, order="split-k")
        for tol in ("any-order", "split-k", "probabilistic"):
            certconv.assert_conv_close(r["y"], x, w, b, padding=1, tolerance=tol)
        res = certconv.check_conv(r["y"], x, w, b, padding=1, tolerance="split-k")
        self.assertTrue(res["passed"])
        self.assertEqual(res["beyond"], 0)
        self.assertEqual(res["outputs"], 420)
        self.assertEqual(len(res["worst"]), 10)
        self.assertEqual(set(res["worst"][0]), {"index", "observed", "truth", "abs_err", "bound", "cond", "norm_err"})

        y = r["y"].copy()
        y[1, 2, 3, 4] += np.float32(2 * r["bound"][1, 2, 3, 4])
        res = certconv.check_conv(y, x, w, b, padding=1, tolerance="split-k")
        self.assertFalse(res["passed"])
        self.assertEqual(res["beyond"], 1)
        self.assertEqual(res["worst"][0]["index"], (1, 2, 3, 4))
        with self.assertRaises(AssertionError) as cm:
            certconv.assert_conv_close(y, x, w, b, padding=1, tolerance="split-k", msg="my conv")
        text = str(cm.exception)
        self.assertTrue(text.startswith("my conv\ncheck_conv FAILED: 1 of 420 outputs"), text)
        self.assertIn("[1, 2, 3, 4]: observed", text)
        self.assertIn("BEYOND", text)

    def test_reduced_precision_tolerance(self):
        x, w, b = inputs()
        y = certconv.run(x, w, b, padding=1, order="im2col:input=fp16")["y"]
        with self.assertRaises(AssertionError):
            certconv.assert_conv_close(y, x, w, b, padding=1)
        certconv.assert_conv_close(y, x, w, b, padding=1, tolerance="any-order:input=fp16")
        certconv.assert_conv_close(y, x, w, b, padding=1, tolerance="im2col:input=fp16")

    def test_float64_actual_on_float32_inputs(self):
        x, w, b = inputs()
        y64 = certconv.run(x, w, b, padding=1, order="direct", dtype="f64")["y"]
        certconv.assert_conv_close(y64, x, w, b, padding=1)
        y32 = certconv.run(x, w, b, padding=1, order="direct")["y"].astype(np.float64)
        with self.assertRaises(AssertionError):
            certconv.assert_conv_close(y32, x, w, b, padding=1)


class TestArrays(unittest.TestCase):
    def test_non_contiguous_byteswapped_and_tensor_inputs(self):
        x, w, b = inputs()
        want = certconv.truth(x, w, b, padding=1)["y"]
        wide = np.zeros((2, 4, 7, 12), np.float32)
        wide[..., ::2] = x
        strided = wide[..., ::2]
        self.assertFalse(strided.flags.c_contiguous)
        for xi in (strided, np.asfortranarray(x), x.astype(">f4"), FakeTensor(x)):
            np.testing.assert_array_equal(certconv.truth(xi, w, b, padding=1)["y"], want)

    def test_bad_arguments(self):
        x, w, b = inputs()
        cases = [
            (TypeError, "x: dtype <U3 is not supported", dict(x="abc")),
            (TypeError, "x is float64, w is float32", dict(x=x.tolist())),
            (TypeError, "x: dtype int64 is not supported", dict(x=x.astype(np.int64))),
            (TypeError, "w: dtype complex64 is not supported", dict(w=w.astype(np.complex64))),
            (TypeError, "w is fp16; .* must share one dtype", dict(w=w.astype(np.float16))),
            (ValueError, r"w: expected a 3-D array \(O, I/groups, kernel\), got 4-D", dict(x=x[0])),
            (ValueError, "bias: expected a 1-D array", dict(b=b[:, None])),
            (TypeError, "x is float32, w is float64, bias is float32; x, w and bias must share one dtype",
             dict(w=w.astype(np.float64))),
            (ValueError, r"w: shape \(5, 4, 3, 3\) has 4 input channels per group, so with groups=1 x needs 4 "
                         r"channels, but x has shape \(2, 3, 7, 6\)", dict(x=x[:, :3])),
            (ValueError, r"bias: shape \(4,\) does not match", dict(b=b[:4])),
            (ValueError, r"x: non-finite value at index \[1, 2, 3, 4\]", dict(x=nan_at(x, (1, 2, 3, 4)))),
            (TypeError, "stride: expected an int or a pair of ints, got 1.5", dict(stride=1.5)),
            (TypeError, r"padding: expected an int or a pair of ints, got \(1, 1, 1\)", dict(padding=(1, 1, 1))),
            (TypeError, "groups: expected an int", dict(groups="2")),
            (ValueError, r"dilation: must be >= 1 \(1 means no dilation\), got \(0, 1\)", dict(dilation=(0, 1))),
            (ValueError, r"stride: must be >= 1, got \(1, 0\)", dict(stride=(1, 0))),
            (ValueError, r"padding: must be >= 0, got \(-1, -1\)", dict(padding=-1)),
            (ValueError, "groups: must be >= 1, got 0", dict(groups=0)),
            (ValueError, "with groups=2 x needs 8 channels", dict(groups=2)),
            (ValueError, r"w: shape \(5, 2, 3, 3\) has 5 output channels, not divisible by groups=2",
             dict(w=w[:, :2].copy(), groups=2)),
            (ValueError, "kh", dict(x=x[:, :, :1, :1], padding=0)),
        ]
        for exc, pattern, change in cases:
            args = dict(x=x, w=w, b=b, stride=1, padding=1, dilation=1, groups=1)
            args.update(change)
            with self.subTest(pattern):
                with self.assertRaisesRegex(exc, pattern):
                    certconv.truth(args["x"], args["w"], args["b"], args["stride"], args["padding"],
                                   args["dilation"], args["groups"])

    def test_bad_function_arguments(self):
        x, w, b = inputs()
        y = certconv.run(x, w, b, padding=1)["y"]
        with self.assertRaisesRegex(ValueError, "unknown order 'nope'"):
            certconv.run(x, w, b, padding=1, order="nope")
        with self.assertRaisesRegex(ValueError, "tolerance 'nope' is not any-order, probabilistic or an order"):
            certconv.check_conv(y, x, w, b, padding=1, tolerance="nope")
        with self.assertRaisesRegex(ValueError, r"observed: shape \(2, 5, 7, 5\) does not match"):
            certconv.check_conv(y[..., :5], x, w, b, padding=1)
        with self.assertRaisesRegex(ValueError, "dtype: expected 'f32' or 'f64'"):
            certconv.run(x, w, b, padding=1, dtype="f16")
        with self.assertRaisesRegex(ValueError, "truth method must be 'auto', 'exact', 'mpfi', 'integer' or 'binary64', got 'fast'"):
            certconv.truth(x, w, b, padding=1, method="fast")
        with self.assertRaisesRegex(ValueError, "A: a float64 output must be a float64 array"):
            certconv.explain(y, y, x, w, b, padding=1, formats=("f64", "f32"))
        with self.assertRaisesRegex(ValueError, r"formats\[1\]: format must be f64, f32, bf16 or fp16, got 'f8'"):
            certconv.explain(y, y, x, w, b, padding=1, formats=("f32", "f8"))
        with self.assertRaisesRegex(ValueError, r"B: .* at index \[0, 0, 0, 0\] is not a bf16 value"):
            certconv.explain(y, y, x, w, b, padding=1, formats=("f32", "bf16"))
        with self.assertRaisesRegex(ValueError, r"b: shape \(2, 5, 7, 5\) is not the output shape"):
            certconv.explain(y, y[..., :5].copy(), x, w, b, padding=1)
        with self.assertRaisesRegex(ValueError, "give orders or observed outputs"):
            certconv.analyze(x, w, b, padding=1)
        with self.assertRaisesRegex(ValueError, "unknown order"):
            certconv.explain(y, y, x, w, b, padding=1, f64=True)


def nan_at(a, index):
    a = a.copy()
    a[index] = np.nan
    return a


class TestAgainstCli(unittest.TestCase):
    """The module and `certconv truth` / `certconv run` agree bit for bit."""

    def setUp(self):
        self.cli = os.environ.get("CERTCONV_BIN")
        if not self.cli:
            self.skipTest("CERTCONV_BIN not set")

    def check(self, dtype, order):
        x, w, b = inputs(dtype, seed=5)
        args = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2))
        t = certconv.truth(x, w, b, **args)
        r = certconv.run(x, w, b, order=order, **args)
        with tempfile.TemporaryDirectory() as d:
            p = {k: os.path.join(d, k + ".npy") for k in ("x", "w", "bias", "t", "lo", "hi", "absdot", "y", "bound")}
            np.save(p["x"], x)
            np.save(p["w"], w)
            np.save(p["bias"], b)
            common = ["--spec", t["spec"], "--x", p["x"], "--w", p["w"], "--bias", p["bias"]]
            subprocess.run([self.cli, "truth", *common, "--out", p["t"], "--lo", p["lo"], "--hi", p["hi"],
                            "--absdot", p["absdot"]], check=True, capture_output=True)
            subprocess.run([self.cli, "run", *common, "--order", order, "--dtype",
                            "f32" if dtype == np.float32 else "f64", "--out", p["y"], "--bound", p["bound"]],
                           check=True, capture_output=True)
            cli = {k: np.load(p[k]) for k in ("t", "lo", "hi", "absdot", "y", "bound")}
        for mine, theirs in (("y", "t"), ("lo", "lo"), ("hi", "hi"), ("absdot", "absdot")):
            self.assertEqual(t[mine].dtype, cli[theirs].dtype)
            self.assertTrue(np.array_equal(bits(t[mine]), bits(cli[theirs])), mine)
        self.assertEqual(r["y"].dtype, cli["y"].dtype)
        self.assertTrue(np.array_equal(bits(r["y"]), bits(cli["y"])))
        self.assertTrue(np.array_equal(bits(r["bound"]), bits(cli["bound"])))
        # The comparison can fail: one changed output is seen.
        y = r["y"].copy()
        y.flat[7] = np.nextafter(y.flat[7], np.float32(np.inf) if dtype == np.float32 else np.inf)
        self.assertFalse(np.array_equal(bits(y), bits(cli["y"])))

    def test_float32_pairwise_fma(self):
        self.check(np.float32, "pairwise:fma=1")

    def test_float64_gemm_blocked(self):
        self.check(np.float64, "gemm-blocked")


def subnormal_inputs():
    """float32 inputs whose values, products and many outputs are subnormal, so
    that flush-to-zero or denormals-are-zero would change every result."""
    x, w, b = inputs(seed=9)
    return (x * np.float32(2.0 ** -128)).astype(np.float32), w, (b * np.float32(2.0 ** -128)).astype(np.float32)


PUBLIC_FUNCTIONS = ["truth", "run", "analyze", "explain", "identify", "reveal", "certified_tolerance", "check_conv",
                    "assert_conv_close", "order_names", "plot"]


class TestApi(unittest.TestCase):
    """The public API is typed and documented (NumPy style), as help() shows it."""

    def test_every_public_function_is_annotated_and_documented(self):
        import inspect
        exported = [n for n in certconv.__all__ if inspect.isfunction(getattr(certconv, n))]
        self.assertEqual(sorted(set(PUBLIC_FUNCTIONS) - set(exported)), [])
        for name in exported:
            with self.subTest(name):
                f = getattr(certconv, name)
                sig = inspect.signature(f)
                self.assertIsNot(sig.return_annotation, inspect.Signature.empty)
                for p in sig.parameters.values():
                    self.assertIsNot(p.annotation, inspect.Parameter.empty, p.name)
                doc = inspect.getdoc(f)
                for section in ("Returns\n-------", "Examples\n--------"):
                    self.assertIn(section, doc)
                if sig.parameters:
                    self.assertIn("Parameters\n----------", doc)
                    self.assertIn("Raises\n------", doc)
                    for p in sig.parameters:  # each parameter described (alone or in a "a, b :" line)
                        self.assertRegex(doc, rf"(^|\n)([a-z_, ]*\b){p}\b[a-z_, ]* : ", p)

    def test_py_typed_marker_is_installed_beside_the_module(self):
        self.assertTrue(os.path.exists(os.path.join(os.path.dirname(certconv.__file__), "py.typed")))

    def test_array_likes_go_through_asarray(self):
        x, w, b = inputs(np.float64)
        want = certconv.truth(x, w, b, padding=1)["y"]
        got = certconv.truth(x.tolist(), w.tolist(), tuple(b.tolist()), padding=1)["y"]
        self.assertTrue(np.array_equal(bits(got), bits(want)))
        y = certconv.run(x, w, b, padding=1, order="direct")["y"]
        self.assertTrue(certconv.check_conv(y.tolist(), x, w, b, padding=1)["passed"])


class TestIdentify(unittest.TestCase):
    def test_identifies_an_order_and_agrees_with_the_cli(self):
        x, w, b = inputs()
        y = certconv.run(x, w, b, padding=1, order="pairwise:fma=1")["y"]
        doc = certconv.identify(y, x, w, b, padding=1, threads=2)
        self.assertEqual(doc["schema"], "certconv.identify/1")
        best = doc["candidates"][0]
        self.assertEqual(best["identical_fraction"], 1.0)
        self.assertEqual(best["mismatches"], 0)
        self.assertTrue(best["order"].startswith("pairwise:"), best["order"])
        self.assertIn("fma=1", best["order"])
        # Replaying the identified order gives y again, bit for bit.
        again = certconv.run(x, w, b, padding=1, order=best["order"])["y"]
        self.assertTrue(np.array_equal(bits(again), bits(y)))
        with tempfile.TemporaryDirectory() as d:
            paths = {k: os.path.join(d, k + ".npy") for k in ("x", "w", "b", "y")}
            for k, a in zip("xwby", (x, w, b, y)):
                np.save(paths[k], a)
            out = os.path.join(d, "id.json")
            subprocess.run([os.environ.get("CERTCONV_BIN", "certconv"), "identify", "--x", paths["x"], "--w",
                            paths["w"], "--bias", paths["b"], "--padding", "1", paths["y"], "--json", out],
                           check=True, capture_output=True)
            with open(out) as f:
                cli = json.load(f)
        self.assertEqual([c["order"] for c in cli["candidates"]], [c["order"] for c in doc["candidates"]])
        self.assertEqual([c["identical_fraction"] for c in cli["candidates"]],
                         [c["identical_fraction"] for c in doc["candidates"]])

    def test_float64_output_of_float32_inputs_and_bad_arguments(self):
        x, w, b = inputs()
        y = certconv.run(x, w, b, padding=1, order="im2col", dtype="f64")["y"]
        self.assertEqual(certconv.identify(y, x, w, b, padding=1)["candidates"][0]["identical_fraction"], 1.0)
        with self.assertRaisesRegex(ValueError, r"y: shape \(2, 5, 7, 6\) is not the output shape \(2, 5, 5, 4\)"):
            certconv.identify(y, x, w, b)
        x64, w64, b64 = (a.astype(np.float64) for a in (x, w, b))
        with self.assertRaisesRegex(ValueError, "float64 inputs cannot give a float32 output"):
            certconv.identify(y.astype(np.float32), x64, w64, b64, padding=1)
        with self.assertRaisesRegex(ValueError, r"y: expected a 4-D array"):
            certconv.identify(y[0], x, w, b, padding=1)


def torch_or_skip(test, name):
    """torch, or skip test (with the reason printed) where python3-torch is not installed."""
    try:
        import torch
    except ImportError:
        print(f"skipped {name}: python3-torch is not installed", file=sys.stderr)
        test.skipTest("needs python3-torch")
    return torch


def bf16_bits_moved(t, index, ulps):
    """t (a torch bfloat16 tensor) with the element at index moved by ulps bf16 ulps away from zero."""
    import torch
    t = t.clone()
    v = np.array([t[index].float().item()], dtype=np.float32).view(np.uint32)
    v += np.uint32(ulps << 16)
    t[index] = torch.from_numpy(v.view(np.float32)).bfloat16()[0]
    return t


class TestReducedPrecision(unittest.TestCase):
    """bf16/fp16 operands as PyTorch and NumPy hold them: widened exactly, the
    output's final rounding and flush to zero in the default tolerance."""

    def torch_bf16(self):
        torch = torch_or_skip(self, self.id())
        torch.manual_seed(0)
        x = torch.randn(1, 16, 12, 12).bfloat16()
        w = (torch.rand(16, 16, 3, 3) / 6 - 1 / 12).bfloat16()
        b = (torch.rand(16) / 6 - 1 / 12).bfloat16()
        backend = str(torch._C._select_conv_backend(x, w, b, [1, 1], [1, 1], [1, 1], False, [0, 0], 1))
        if "Mkldnn" not in backend:  # another backend may not accumulate in float32
            print(f"skipped a bf16 test: torch runs {backend}, not oneDNN, for bf16 conv2d here", file=sys.stderr)
            self.skipTest("torch does not run oneDNN for bf16 here")
        return torch, x, w, b, torch.nn.functional.conv2d(x, w, b, padding=1)

    def test_torch_bf16_conv_passes_with_no_extra_arguments(self):
        torch, x, w, b, y = self.torch_bf16()
        r = certconv.check_conv(y, x, w, b, padding=1)
        self.assertTrue(r["passed"], r["message"])
        self.assertEqual(r["bound_kind"], "order-free+input-rounding+output-rounding")
        self.assertIn("any-order:input=bf16,output=bf16,ftz=1", r["message"])
        self.assertIn("float32 accumulation, bf16 output", r["message"])
        certconv.assert_conv_close(y, x, w, b, padding=1)
        # Widened by hand, the output's rounding is not in the float32 model: false alarms ...
        widened = [t.float() for t in (y, x, w, b)]
        r = certconv.check_conv(*widened, padding=1, tolerance="any-order:input=bf16")
        self.assertGreater(r["beyond"], r["outputs"] // 10)
        # ... unless the output format is named.
        self.assertTrue(certconv.check_conv(*widened, padding=1, output="bf16")["passed"])

    def test_analyze_takes_bf16_observed_outputs(self):
        torch, x, w, b, y = self.torch_bf16()
        doc = certconv.analyze(x, w, b, padding=1, observed={"torch": y, "widened": (y.float(), "bf16"),
                                                             "as_f32": y.float()}, allow_violations=True)
        o = {r["name"]: r for r in doc["observed"]}
        for name in ("torch", "widened"):
            self.assertEqual(o[name]["dtype"], "bf16")
            self.assertEqual(o[name]["u"], 2.0 ** -8)
            self.assertEqual(o[name]["violations"], 0)
        self.assertEqual(o["torch"]["identical_fraction"]["widened"], 1.0)
        self.assertEqual(o["as_f32"]["dtype"], "f32")
        self.assertGreater(o["as_f32"]["violations"], 0)  # as float32 it would be a bug

    def test_two_ulps_off_fails_and_names_the_element(self):
        torch, x, w, b, y = self.torch_bf16()
        r = certconv.check_conv(bf16_bits_moved(y, (0, 5, 3, 4), 2), x, w, b, padding=1)
        self.assertFalse(r["passed"])
        self.assertEqual(r["beyond"], 1)
        self.assertEqual(r["worst"][0]["index"], (0, 5, 3, 4))
        with self.assertRaisesRegex(AssertionError, r"\[0, 5, 3, 4\].*BEYOND"):
            certconv.assert_conv_close(bf16_bits_moved(y, (0, 5, 3, 4), 2), x, w, b, padding=1)

    def test_numpy_float16_operands(self):
        x, w, b = (a.astype(np.float16) for a in inputs())
        # A float32 accumulation of the fp16 values, stored as fp16.
        y = certconv.run(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), padding=1,
                         order="direct")["y"].astype(np.float16)
        r = certconv.check_conv(y, x, w, b, padding=1)
        self.assertTrue(r["passed"], r["message"])
        self.assertIn("any-order:input=fp16,output=fp16", r["message"])
        self.assertNotIn("ftz", r["message"])
        t = certconv.certified_tolerance(x, w, b, padding=1, output="fp16")
        self.assertTrue(np.all(np.abs(y.astype(np.float64) - certconv.truth(x, w, b, padding=1)["y"])
                               <= t["per_element"]))
        self.assertGreater(t["atol"], certconv.certified_tolerance(x, w, b, padding=1)["atol"])

    def test_bad_reduced_precision_arguments(self):
        x, w, b = inputs()
        y = certconv.run(x, w, b, padding=1, order="direct")["y"]
        with self.assertRaisesRegex(ValueError, r"observed \(tolerance .*\): .* at index \[0, 0, 0, 0\] is not a bf16 value"):
            certconv.check_conv(y, x, w, b, padding=1, output="bf16")
        with self.assertRaisesRegex(ValueError, "output: expected 'bf16', 'fp16' or None"):
            certconv.check_conv(y, x, w, b, padding=1, output="fp8")
        with self.assertRaisesRegex(TypeError, "x is fp16; w is float32/float64; bias is float32/float64"):
            certconv.check_conv(y, x.astype(np.float16), w, b, padding=1)
        with self.assertRaisesRegex(ValueError, "an emulated order's bound is for its float32 output"):
            certconv.check_conv(y.astype(np.float16), x, w, b, padding=1, tolerance="im2col")


class TestMixedExplain(unittest.TestCase):
    """The seed thread's follow-up: a float64 manual result against the float32
    library one, and float32 against bf16."""

    def test_float64_against_float32(self):
        x, w, b = inputs(shape=((1, 8, 12, 12), (6, 8, 3, 3)))
        mine = certconv.run(x, w, b, padding=1, order="im2col", dtype="f64")["y"]
        theirs = certconv.run(x, w, b, padding=1, order="direct")["y"]
        doc = certconv.explain(mine, theirs, x, w, b, padding=1, names=("mine64", "conv2d"), rtol=1e-7)
        self.assertEqual(doc["parameters"]["formats"], ["f64", "f32"])
        t = certconv.truth(x, w, b, padding=1)["y"]
        # Each side's max |error| equals an independent computation.
        self.assertEqual(doc["observed"][0]["max_abs_err"], float(np.max(np.abs(mine - t))))
        self.assertEqual(doc["observed"][1]["max_abs_err"], float(np.max(np.abs(theirs.astype(np.float64) - t))))
        self.assertIn("The difference is conv2d's round-off", doc["verdict"])
        self.assertEqual(doc["isclose"]["failures_dominated"]["conv2d"], doc["isclose"]["failures"])
        self.assertGreater(doc["isclose"]["failures"], 0)

    def test_float32_against_torch_bf16(self):
        torch = torch_or_skip(self, "test_float32_against_torch_bf16")
        torch.manual_seed(1)
        x = torch.randn(1, 8, 10, 10).bfloat16()
        w = (torch.rand(6, 8, 3, 3) / 6 - 1 / 12).bfloat16()
        y16 = torch.nn.functional.conv2d(x, w, padding=1)
        y32 = torch.nn.functional.conv2d(x.float(), w.float(), padding=1)
        doc = certconv.explain(y32, y16, x, w, padding=1, names=("f32", "bf16"))
        self.assertEqual(doc["parameters"]["formats"], ["f32", "bf16"])
        self.assertTrue(all(doc["consistent_with_some_order"].values()), doc["verdict"])
        self.assertEqual(doc["observed"][1]["u"], 2.0 ** -8)
        self.assertIn("The difference is bf16's round-off", doc["verdict"])


def entry_point_results(x, w, b):
    """truth (auto and exact) and a few orders with their bounds, as raw bits."""
    out = {}
    for method in ("auto", "exact"):
        t = certconv.truth(x, w, b, padding=1, method=method, threads=2)
        for k in ("y", "y32", "lo", "hi", "absdot", "cond"):  # cond: divided by the module itself
            out["truth", method, k] = bits(t[k]).copy()
    for order in ("im2col", "pairwise:fma=1", "kahan", "gemm-blocked", "winograd"):
        r = certconv.run(x, w, b, padding=1, order=order, threads=2)
        out[order, "y"] = bits(r["y"]).copy()
        out[order, "bound"] = bits(r["bound"]).copy()
    return out


class TestHostileCaller(unittest.TestCase):
    """Every function runs in round-to-nearest with subnormals kept, whatever the
    host set, and gives the host its environment back."""

    def assert_same(self, got, want):
        self.assertEqual(got.keys(), want.keys())
        for k in want:
            self.assertTrue(np.array_equal(got[k], want[k]), k)

    def test_subnormals_matter(self):
        x, _, _ = subnormal_inputs()
        self.assertGreater(np.count_nonzero(np.abs(x) < np.finfo(np.float32).tiny), x.size // 2)
        self.assertGreater(np.count_nonzero(certconv.truth(*subnormal_inputs(), padding=1)["y32"]), 0)

    def test_torch_flush_denormal(self):
        torch = torch_or_skip(self, "test_torch_flush_denormal")
        args = subnormal_inputs()  # made before the host changes anything
        want = entry_point_results(*args)
        tiny = np.float32(2.0 ** -140)
        if not torch.set_flush_denormal(True):
            print("skipped test_torch_flush_denormal: this CPU has no flush-to-zero", file=sys.stderr)
            self.skipTest("torch.set_flush_denormal unsupported on this CPU")
        try:
            self.assertEqual(tiny * np.float32(1), 0)  # the host really flushes
            got = entry_point_results(*args)
            self.assertEqual(tiny * np.float32(1), 0)  # and still does afterwards
        finally:
            torch.set_flush_denormal(False)
        self.assertEqual(tiny * np.float32(1), tiny)
        self.assert_same(got, want)

    def test_rounding_mode_of_the_host(self):
        # The C library's own fesetround, as any host may call it; its FE_* values
        # are the x86-64 ones.
        libm = ctypes.util.find_library("m")
        if platform.machine() != "x86_64" or not libm:
            print("skipped test_rounding_mode_of_the_host: needs x86-64 and libm", file=sys.stderr)
            self.skipTest("needs x86-64 and libm")
        m = ctypes.CDLL(libm)
        fe_tonearest, fe_upward, fe_towardzero = 0, 0x800, 0xC00
        args = subnormal_inputs()  # made before the host changes anything
        want = entry_point_results(*args)
        for mode in (fe_upward, fe_towardzero):
            self.assertEqual(m.fesetround(mode), 0)
            try:
                got = entry_point_results(*args)
                self.assertEqual(m.fegetround(), mode)
            finally:
                m.fesetround(fe_tonearest)
            self.assert_same(got, want)


if __name__ == "__main__":
    unittest.main()
