"""Gradients, transposed convolution, 1-D and 3-D from Python: the truth against
PyTorch's float64 results (which must lie within the rigorous float64 bound),
and against NumPy sums written from the definitions."""
import sys
import unittest

import numpy as np

import certconv

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None


def naive_dw(x, dy, k, stride, padding):
    """dw[oc, c, ky, kx] = sum over n, oy, ox of dy * x at the tap (groups 1), in float64."""
    n, c, ih, iw = x.shape
    _, oc, oh, ow = dy.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding + stride), (padding, padding + stride)))
    dw = np.zeros((oc, c, k, k))
    for ky in range(k):
        for kx in range(k):
            patch = xp[:, :, ky:ky + stride * oh:stride, kx:kx + stride * ow:stride]
            dw[:, :, ky, kx] = np.einsum("nohw,nchw->oc", dy, patch)
    return dw


class Directions(unittest.TestCase):
    def test_bwd_w_against_definition(self):
        rng = np.random.default_rng(3)
        # Integer values: every sum is exact in float64, so the truth equals it bit for bit.
        x = rng.integers(-3, 4, (2, 3, 7, 6)).astype(np.float64)
        dy = rng.integers(-3, 4, (2, 4, 4, 3)).astype(np.float64)
        t = certconv.truth(x, (4, 3, 3, 3), stride=2, padding=1, direction="bwd_w", dy=dy)
        self.assertEqual(t["result"], "dw")
        self.assertEqual(t["direction"], "BWD_W")
        self.assertEqual(t["n_terms"], 2 * 4 * 3)
        np.testing.assert_array_equal(t["y"], naive_dw(x, dy, 3, 2, 1))
        both = certconv.truth(x, (4, 3, 3, 3), stride=2, padding=1, direction="bwd_wb", dy=dy)
        np.testing.assert_array_equal(both["db"]["y"], dy.sum(axis=(0, 2, 3)))

    def test_errors_name_the_argument(self):
        x = np.ones((1, 2, 5, 5))
        with self.assertRaisesRegex(ValueError, "dy: direction 'bwd_w' needs dy"):
            certconv.truth(x, (3, 2, 3, 3), direction="bwd_w")
        with self.assertRaisesRegex(ValueError, "direction: expected one of"):
            certconv.truth(x, np.ones((3, 2, 3, 3)), direction="backward")
        with self.assertRaisesRegex(ValueError, r"dy: shape \(1, 3, 4, 4\) does not match"):
            certconv.truth(x, (3, 2, 3, 3), direction="bwd_w", dy=np.ones((1, 3, 4, 4)))
        with self.assertRaisesRegex(ValueError, "output_padding: only with transposed=True"):
            certconv.truth(x, np.ones((3, 2, 3, 3)), output_padding=1)

    def test_check_conv_and_tolerance_of_gradients(self):
        rng = np.random.default_rng(5)
        x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
        dy = rng.standard_normal((2, 4, 4, 3)).astype(np.float32)
        dw = naive_dw(x, dy, 3, 2, 1).astype(np.float32)  # float64 sums rounded once: within float32's bound
        kw = dict(stride=2, padding=1, direction="bwd_w", dy=dy)
        r = certconv.check_conv(dw, x, (4, 3, 3, 3), **kw)
        self.assertTrue(r["passed"], r["message"])
        self.assertEqual(r["outputs"], dw.size)
        self.assertIn("BWD_W dw", r["message"])
        tol = certconv.certified_tolerance(x, (4, 3, 3, 3), **kw)
        self.assertEqual(tol["result"], "dw")
        self.assertEqual(tol["per_element"].shape, dw.shape)
        self.assertTrue((tol["per_element"] > 0).all())
        self.assertEqual(tol["atol"], tol["per_element"].max())
        # One element off by 3 of its bounds: beyond, named in dw's shape.
        bad = dw.copy()
        bad[3, 1, 2, 0] += np.float32(3 * tol["per_element"][3, 1, 2, 0])
        r = certconv.check_conv(bad, x, (4, 3, 3, 3), **kw)
        self.assertEqual(r["beyond"], 1)
        self.assertEqual(r["worst"][0]["index"], (3, 1, 2, 0))
        with self.assertRaisesRegex(AssertionError, r"\[3, 1, 2, 0\]: observed"):
            certconv.assert_conv_close(bad, x, (4, 3, 3, 3), **kw)
        # bwd_wb: dw or db by shape; certified_tolerance gives both.
        kw["direction"] = "bwd_wb"
        db = dy.astype(np.float64).sum(axis=(0, 2, 3)).astype(np.float32)
        self.assertTrue(certconv.check_conv(db, x, (4, 3, 3, 3), **kw)["passed"])
        both = certconv.certified_tolerance(x, (4, 3, 3, 3), **kw)
        self.assertEqual(both["db"]["result"], "db")
        self.assertEqual(both["db"]["per_element"].shape, (4,))
        with self.assertRaisesRegex(ValueError, r"shape \(3,\) does not match the BWD_WB result of .*, which is dw \(4, 3, 3, 3\) or db \(4,\)"):
            certconv.check_conv(db[:3], x, (4, 3, 3, 3), **kw)
        # conv1d, and an order that does not apply to a gradient.
        x1 = rng.standard_normal((2, 4, 30))
        w1 = rng.standard_normal((5, 4, 3))
        y1 = certconv.truth(x1, w1, padding=1)["y"]
        self.assertTrue(certconv.check_conv(y1, x1, w1, padding=1)["passed"])
        with self.assertRaisesRegex(ValueError, "does not apply to BWD_W"):
            certconv.check_conv(dw, x, (4, 3, 3, 3), stride=2, padding=1, direction="bwd_w", dy=dy,
                                tolerance="onednn-avx512")

    def test_explain_a_gradient(self):
        rng = np.random.default_rng(6)
        x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
        dy = rng.standard_normal((2, 4, 4, 3)).astype(np.float32)
        mine = naive_dw(x.astype(np.float64), dy.astype(np.float64), 3, 2, 1)
        theirs = mine.astype(np.float32)
        kw = dict(stride=2, padding=1, direction="bwd_w", dy=dy)
        doc = certconv.explain(mine, theirs, x, (4, 3, 3, 3), names=("mine", "theirs"), **kw)
        self.assertEqual(doc["problem"]["direction"], "BWD_W")
        self.assertEqual(doc["problem"]["result"], "dw")
        self.assertEqual(doc["parameters"]["formats"], ["f64", "f32"])
        self.assertTrue(doc["verdict"].startswith("No bug"), doc["verdict"])
        self.assertIn("The difference is theirs's round-off", doc["verdict"])
        # One element far off: that side is named, with the element's dw index.
        theirs[2, 1, 0, 2] += 1
        doc = certconv.explain(mine, theirs, x, (4, 3, 3, 3), names=("mine", "theirs"), **kw)
        self.assertFalse(doc["consistent_with_some_order"]["theirs"])
        self.assertIn("e.g. index [2, 1, 0, 2]", doc["verdict"])
        self.assertEqual(doc["isclose"]["failing"][0]["index"], [2, 1, 0, 2])
        with self.assertRaisesRegex(ValueError, r"a: shape \(2, 3, 7, 6\) does not match the BWD_W result"):
            certconv.explain(x, x, x, (4, 3, 3, 3), **kw)


@unittest.skipIf(torch is None, "python3-torch is not installed")
class AgainstPyTorch(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)

    def check_within_bound(self, doc):
        obs = doc["observed"][0]
        self.assertEqual(obs["violations"], 0, obs["worst"][:1])
        self.assertLess(obs["max_tightness"], 1)

    def test_float64_gradients_within_the_rigorous_bound(self):
        # res2a_branch2b's geometry at batch 2, and a 32->24 layer with stride 2.
        for shape, oc, k, s, p in (((2, 64, 56, 56), 64, 3, 1, 1), ((2, 32, 15, 15), 24, 3, 2, 1)):
            x = torch.randn(*shape, dtype=torch.float64)
            w = torch.randn(oc, shape[1], k, k, dtype=torch.float64) * 0.05
            y = torch.nn.functional.conv2d(x, w, stride=s, padding=p)
            dy = torch.randn_like(y)
            dx = torch.nn.grad.conv2d_input(x.shape, w, dy, stride=s, padding=p)
            dw = torch.nn.grad.conv2d_weight(x, w.shape, dy, stride=s, padding=p)
            t = certconv.truth(x.shape, w, stride=s, padding=p, direction="bwd_d", dy=dy)
            self.assertLess(np.abs(t["y"] - dx.numpy()).max(), 1e-10)
            self.check_within_bound(certconv.analyze(x.shape, w, stride=s, padding=p, direction="bwd_d", dy=dy,
                                                     observed={"torch": dx}))
            self.check_within_bound(certconv.analyze(x, w.shape, stride=s, padding=p, direction="bwd_w", dy=dy,
                                                     observed={"torch": dw}))

    def test_conv1d_conv3d_and_their_gradients(self):
        x1 = torch.randn(2, 6, 40, dtype=torch.float64)
        w1 = torch.randn(8, 3, 5, dtype=torch.float64)
        y1 = torch.nn.functional.conv1d(x1, w1, stride=2, padding=2, dilation=2, groups=2)
        t = certconv.truth(x1, w1, stride=2, padding=2, dilation=2, groups=2)
        self.assertEqual(t["result"], "y")
        self.assertLess(np.abs(t["y"] - y1.numpy()).max(), 1e-12)
        dy1 = torch.randn_like(y1)
        dw1 = torch.nn.grad.conv1d_weight(x1, w1.shape, dy1, stride=2, padding=2, dilation=2, groups=2)
        self.check_within_bound(certconv.analyze(x1, w1.shape, stride=2, padding=2, dilation=2, groups=2,
                                                 direction="bwd_w", dy=dy1, observed={"torch": dw1}))
        x3 = torch.randn(1, 3, 6, 7, 5, dtype=torch.float64)
        w3 = torch.randn(4, 3, 3, 2, 3, dtype=torch.float64)
        y3 = torch.nn.functional.conv3d(x3, w3, stride=(1, 2, 1), padding=1)
        self.assertLess(np.abs(certconv.truth(x3, w3, stride=(1, 2, 1), padding=1)["y"] - y3.numpy()).max(), 1e-12)
        dy3 = torch.randn_like(y3)
        dx3 = torch.nn.grad.conv3d_input(x3.shape, w3, dy3, stride=(1, 2, 1), padding=1)
        self.check_within_bound(certconv.analyze(x3.shape, w3, stride=(1, 2, 1), padding=1, direction="bwd_d",
                                                 dy=dy3, observed={"torch": dx3}))
        with self.assertRaisesRegex(ValueError, "dy: expected a 4-D array"):
            certconv.truth(x3[0], w3.shape, direction="bwd_w", dy=dy3)

    @unittest.skipIf("avx512f" not in open("/proc/cpuinfo").read(),
                     "no AVX-512: PyTorch's oneDNN runs other kernels than the emulated jit:avx512_core ones")
    def test_identify_names_autograd_kernels(self):
        # PyTorch's autograd runs oneDNN's jit backward kernels (mb >= 2); identify
        # reproduces dx and dw bit for bit at 1 and 2 threads.
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for mb, ic, oc, hw, k, s, p in ((2, 32, 24, 28, 3, 1, 1), (2, 3, 16, 40, 7, 2, 3)):
                x = torch.randn(mb, ic, hw, hw, requires_grad=True)
                w = (torch.randn(oc, ic, k, k) * 0.05).requires_grad_()
                y = torch.nn.functional.conv2d(x, w, stride=s, padding=p)
                dy = torch.randn_like(y)
                y.backward(dy)
                d = certconv.identify(x.grad, x.shape, w.detach(), stride=s, padding=p, direction="bwd_d", dy=dy,
                                      threads=threads)
                self.assertEqual(d["problem"]["result"], "dx")
                match = [c["order"] for c in d["candidates"] if c["identical_fraction"] == 1]
                self.assertIn("onednn-avx512-bwd-d:input=f32", match)
                d = certconv.identify(w.grad, x.detach(), w.shape, stride=s, padding=p, direction="bwd_w", dy=dy,
                                      threads=threads)
                match = [c["order"] for c in d["candidates"] if c["identical_fraction"] == 1]
                self.assertIn(f"onednn-avx512-bwd-w:input=f32,threads={threads}", match)
        torch.set_num_threads(2)

    @unittest.skipIf("avx512f" not in open("/proc/cpuinfo").read(),
                     "no AVX-512: PyTorch's oneDNN runs other kernels than the emulated ones")
    def test_identify_names_every_gradient_path(self):
        # The kernels PyTorch 1.13's autograd picks beyond conv2d's jit:avx512_core:
        # its slow path (one small image: GEMM + col2im) for conv1d/conv2d/conv3d,
        # oneDNN's 3-D jit kernels, jit:avx2 weights (8 input channels) and the
        # depthwise jit_dw weights (56 columns: four ow segments).
        cases = (  # x shape, w shape, kwargs, the dx order, the dw order (None: any 100% order)
            ((1, 16, 100), (32, 16, 3), dict(padding=1), "slow-conv-bwd-d:", None),
            ((1, 8, 101), (600, 8, 5), dict(padding=2, stride=2), "slow-conv-bwd-d:", None),
            ((1, 4, 9, 12, 12), (24, 4, 3, 3, 3), dict(padding=2, stride=2, dilation=2), "slow-conv-bwd-d:", None),
            ((2, 16, 100), (32, 16, 3), dict(padding=1), "onednn-avx512-bwd-d:", "onednn-avx512-bwd-w:"),
            ((3, 16, 5, 8, 8), (16, 16, 3, 3, 3), dict(padding=1), "onednn-avx512-bwd-d:", "onednn-avx512-bwd-w:"),
            ((8, 8, 14, 14), (24, 8, 3, 3), dict(padding=1), "onednn-avx512-bwd-d:", "onednn-avx2-bwd-w:"),
            ((3, 16, 56, 56), (16, 1, 3, 3), dict(padding=1, groups=16), "onednn-avx512-bwd-d:", "onednn-dw-bwd-w:"),
        )
        conv = {3: torch.nn.functional.conv1d, 4: torch.nn.functional.conv2d, 5: torch.nn.functional.conv3d}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for xs, ws, kw, dx_order, dw_order in cases:
                with self.subTest(x=xs, w=ws, threads=threads):
                    x = torch.randn(*xs, requires_grad=True)
                    w = (torch.randn(*ws) * 0.1).requires_grad_()
                    y = conv[len(xs)](x, w, **kw)
                    dy = torch.randn_like(y)
                    y.backward(dy)
                    d = certconv.identify(x.grad, x.shape, w.detach(), direction="bwd_d", dy=dy, threads=threads, **kw)
                    match = [c["order"] for c in d["candidates"] if c["identical_fraction"] == 1]
                    self.assertTrue(any(m.startswith(dx_order) for m in match), (dx_order, match[:3]))
                    d = certconv.identify(w.grad, x.detach(), w.shape, direction="bwd_w", dy=dy, threads=threads,
                                          **kw)
                    match = [c["order"] for c in d["candidates"] if c["identical_fraction"] == 1]
                    if dw_order is None:
                        self.assertTrue(match, d["candidates"][:1])
                    else:
                        want = dw_order + f"input=f32,threads={threads}"
                        self.assertIn(want, match)
        torch.set_num_threads(2)

    @unittest.skipIf("avx2" not in open("/proc/cpuinfo").read(), "no AVX2")
    def test_identify_names_the_avx2_backward_kernels(self):
        # oneDNN limited to AVX2 (as on a CPU without AVX-512) runs jit:avx2 backward
        # data and weights; PyTorch runs in a child process with ONEDNN_MAX_CPU_ISA set.
        import os
        import subprocess
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            for ow, oc in ((14, 24), (20, 32), (44, 16)):  # nb_oc_blocking 4, 2, 1
                script = (
                    "import sys, numpy as np, torch\n"
                    "torch.manual_seed(0)\n"
                    f"x = torch.randn(2, 16, {ow}, {ow}, requires_grad=True)\n"
                    f"w = (torch.randn({oc}, 16, 3, 3) * 0.1).requires_grad_()\n"
                    "y = torch.nn.functional.conv2d(x, w, padding=1)\n"
                    "dy = torch.randn_like(y)\n"
                    "y.backward(dy)\n"
                    "for n, t in (('x', x), ('w', w), ('dy', dy), ('dx', x.grad), ('dw', w.grad)):\n"
                    f"    np.save('{tmp}/' + n + '.npy', t.detach().numpy())\n")
                env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2")
                subprocess.run([sys.executable, "-c", script], env=env, check=True)
                ld = {n: np.load(f"{tmp}/{n}.npy") for n in ("x", "w", "dy", "dx", "dw")}
                with self.subTest(ow=ow, oc=oc):
                    d = certconv.identify(ld["dx"], ld["x"].shape, ld["w"], padding=1, direction="bwd_d", dy=ld["dy"])
                    match = [c["order"] for c in d["candidates"] if c["identical_fraction"] == 1]
                    self.assertIn("onednn-avx2-bwd-d:input=f32", match)
                    self.assertNotIn("onednn-avx512-bwd-d:input=f32", match)
                    d = certconv.identify(ld["dw"], ld["x"], ld["w"].shape, padding=1, direction="bwd_w", dy=ld["dy"])
                    match = [c["order"] for c in d["candidates"] if c["identical_fraction"] == 1]
                    self.assertIn("onednn-avx2-bwd-w:input=f32,threads=1", match)

    def test_transposed_convolution(self):
        x = torch.randn(2, 6, 5, 4, dtype=torch.float64)
        w = torch.randn(6, 2, 3, 3, dtype=torch.float64)
        for s, p, op in ((2, 1, 1), (1, 0, 0), (3, 2, 2)):
            y = torch.nn.functional.conv_transpose2d(x, w, stride=s, padding=p, output_padding=op, groups=2)
            t = certconv.truth(x, w, stride=s, padding=p, groups=2, transposed=True, output_padding=op)
            self.assertEqual(t["y"].shape, tuple(y.shape))
            self.assertLess(np.abs(t["y"] - y.numpy()).max(), 1e-12)
        y32 = torch.nn.functional.conv_transpose2d(x.float(), w.float(), stride=2, padding=1)
        doc = certconv.analyze(x.float(), w.float(), stride=2, padding=1, transposed=True, observed={"torch": y32},
                               orders="direct")
        self.assertEqual([o["violations"] for o in doc["observed"]], [0, 0])


if __name__ == "__main__":
    unittest.main()
