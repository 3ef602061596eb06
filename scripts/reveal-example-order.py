#!/usr/bin/env python3
"""A convolution no catalog order covers, for `certconv reveal --command`
(docs/reveal.md): even output columns sum the products in term order, odd columns
in reverse, each a plain float32 chain (no FMA) from the bias; padded taps are zero
products. Usage: reveal-example-order.py X W BIAS Y STRIDE PAD
"""
import sys

import numpy as np

x, w, b = (np.load(p) for p in sys.argv[1:4])
s, pad = int(sys.argv[5]), int(sys.argv[6])
mb, ic, ih, iw = x.shape
oc, _, kh, kw = w.shape
xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
oh, ow = (ih + 2 * pad - kh) // s + 1, (iw + 2 * pad - kw) // s + 1
y = np.empty((mb, oc, oh, ow), np.float32)
wk = w.reshape(oc, -1)
odd = (np.arange(oh * ow) % ow) % 2 == 1
for n in range(mb):
    # cols[k, m]: the input term k multiplies at output position m (k = c·KH·KW + i·KW + j).
    cols = np.stack([xp[n, c, i:i + s * oh:s, j:j + s * ow:s].reshape(-1)
                     for c in range(ic) for i in range(kh) for j in range(kw)])
    fwd = np.repeat(b[:, None], oh * ow, 1).astype(np.float32)
    rev = fwd.copy()
    K = cols.shape[0]
    for k in range(K):
        fwd = fwd + wk[:, k:k + 1] * cols[k][None, :]
        rev = rev + wk[:, K - 1 - k:K - k] * cols[K - 1 - k][None, :]
    y[n] = np.where(odd[None, :], rev, fwd).reshape(oc, oh, ow)
np.save(sys.argv[4], y)
