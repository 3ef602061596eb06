"""certconv.reveal on Python functions: a NumPy convolution with position-dependent
order, the tree order replaying it, and the errors a bad function gets."""
import os
import tempfile
import unittest

import numpy as np

import certconv
from certconv import reveal


def chain_conv(x, w, bias, reverse_odd_columns):
    """Valid 2-D convolution, stride 1: per output a float32 chain from the bias over
    the products in term order (reversed at odd columns when asked)."""
    n, c, ih, iw = x.shape
    oc, _, kh, kw = w.shape
    oh, ow = ih - kh + 1, iw - kw + 1
    cols = np.stack([x[:, ci, i:i + oh, j:j + ow] for ci in range(c) for i in range(kh) for j in range(kw)], 1)
    wk = w.reshape(oc, -1)
    y = np.empty((n, oc, oh, ow), x.dtype)
    K = wk.shape[1]
    for o in range(oc):
        fwd = np.full((n, oh, ow), bias[o], x.dtype)
        rev = fwd.copy()
        for k in range(K):
            fwd = fwd + wk[o, k] * cols[:, k]
            rev = rev + wk[o, K - 1 - k] * cols[:, K - 1 - k]
        odd = (np.arange(ow) % 2 == 1) & reverse_odd_columns
        y[:, o] = np.where(odd[None, None, :], rev, fwd)
    return y


class Reveal(unittest.TestCase):
    def test_position_classes_and_replay(self):
        with tempfile.TemporaryDirectory() as d:
            tree = os.path.join(d, "t.tree.json")
            doc = reveal(lambda x, w, b: chain_conv(x, w, b, True), (1, 3, 6, 6), (4, 3, 3, 3), tree_out=tree)
            self.assertEqual(doc["schema"], "certconv.reveal/1")
            self.assertEqual(doc["status"], "tree")
            self.assertEqual(len(doc["trees"]), 2)
            self.assertEqual(doc["replay"]["identical_fraction"], 1.0)
            self.assertEqual(doc["numerics"]["chosen"]["fma"], "0")
            rng = np.random.default_rng(3)
            x = rng.standard_normal((1, 3, 6, 6)).astype(np.float32)
            w = rng.uniform(-0.3, 0.3, (4, 3, 3, 3)).astype(np.float32)
            b = rng.uniform(-0.3, 0.3, 4).astype(np.float32)
            y = certconv.run(x, w, b, order=doc["order"])
            y = y["y"] if isinstance(y, dict) else y
            np.testing.assert_array_equal(np.asarray(y), chain_conv(x, w, b, True))

    def test_float64_one_tree(self):
        doc = reveal(lambda x, w, b: chain_conv(x, w, b, False), (1, 2, 5, 5), (3, 2, 2, 2), dtype="f64")
        self.assertEqual(doc["status"], "tree")
        self.assertEqual(len(doc["trees"]), 1)
        self.assertIsNone(doc["order"])  # no tree_out: nothing to replay from

    def test_torch_conv2d(self):
        try:
            import torch
        except ImportError:
            self.skipTest("needs torch")
        conv = lambda x, w, b: torch.nn.functional.conv2d(*map(torch.from_numpy, (x, w, b)), stride=2,
                                                          padding=3).numpy()
        doc = reveal(conv, (1, 3, 20, 20), (8, 3, 7, 7), stride=2, padding=3)
        self.assertEqual(doc["status"], "tree")
        self.assertEqual(doc["replay"]["identical_fraction"], 1.0)
        self.assertEqual(doc["black_box"]["kind"], "python")

    def test_bad_functions(self):
        with self.assertRaises(ValueError):  # wrong shape
            reveal(lambda x, w, b: np.zeros((1, 1, 1, 1), np.float32), (1, 2, 5, 5), (3, 2, 2, 2))
        with self.assertRaises(ValueError):  # wrong dtype
            reveal(lambda x, w, b: chain_conv(x, w, b, False).astype(np.float64), (1, 2, 5, 5), (3, 2, 2, 2))
        with self.assertRaises(ZeroDivisionError):  # the function's own error
            reveal(lambda x, w, b: 1 / 0, (1, 2, 5, 5), (3, 2, 2, 2))


if __name__ == "__main__":
    unittest.main()
