"""The recurrence kernels (`recurrence.Recurrence`): forward and backward loops of every cell.

A layer's recurrence runs as one compiled loop instead of a PyTensor scan: each step is one
BLAS product (rows×H)·(H×gH) and one fused pass over the gates. `cell` is a kernel id of the
cell table (`rnnlm.models.cells`): RNN (Ra = Wᵀ), GRU (Ra = U[:, :2H] for z and r, Rb = U[:, 2H:]
for the candidate), LSTM (Ra = U). Gates and saved activations are laid out as in
`cell_step.step`: GRU aux = (z, r, n); LSTM aux = (c, i, f, o, g, tanh c). `m` (rows×H) scales
the state where it enters the recurrent products (recurrent dropout; ones without it).
"""

from __future__ import annotations

import numba
import numpy as np

from rnnlm.models.cells import GRU, LSTM, RNN
from rnnlm.models.ops._numba import JIT, sigmoid, tanh


@numba.njit(**JIT)
def step_forward(cell, x, hp, cp, Ra, Rb, m, h, aux):
    """One step for all rows: x (rows×gH) input pre-activations, hp/cp the previous states;
    writes the new state h (rows×H) and the saved activations aux (rows×A)."""
    H, one = hp.shape[1], np.ones(1, dtype=hp.dtype)[0]
    seen = hp * m
    pre = np.dot(seen, Ra)
    for b in range(hp.shape[0]):
        xb, pb = x[b], pre[b]
        if cell == RNN:
            for j in range(H):
                h[b, j] = tanh(xb[j] + pb[j])
        elif cell == LSTM:
            for j in range(H):
                i, f = sigmoid(xb[j] + pb[j]), sigmoid(xb[H + j] + pb[H + j])
                o, g = sigmoid(xb[2 * H + j] + pb[2 * H + j]), tanh(xb[3 * H + j] + pb[3 * H + j])
                c = f * cp[b, j] + i * g
                tc = tanh(c)
                h[b, j] = o * tc
                a = aux[b]
                a[j], a[H + j], a[2 * H + j], a[3 * H + j], a[4 * H + j], a[5 * H + j] = c, i, f, o, g, tc
        else:
            for j in range(2 * H):
                aux[b, j] = sigmoid(xb[j] + pb[j])  # z, r
            for j in range(H):
                aux[b, 2 * H + j] = aux[b, H + j] * seen[b, j]  # r·seen, for the candidate's product
    if cell == GRU:
        pn = np.dot(np.ascontiguousarray(aux[:, 2 * H :]), Rb)
        for b in range(hp.shape[0]):
            for j in range(H):
                z, n = aux[b, j], tanh(x[b, 2 * H + j] + pn[b, j])
                aux[b, 2 * H + j] = n
                h[b, j] = z * hp[b, j] + (one - z) * n


@numba.njit(**JIT)
def step_backward(cell, dh, dc, hp, cp, h, aux, Ra, Rb, m, dRa, dRb, dx):
    """Back through one step for all rows, given the gradients dh, dc of its new state:
    writes dx (rows×gH, = d input pre-activations), adds to dRa/dRb and returns the
    gradients (dhp, dcp) of the previous state."""
    seen = hp * m
    if cell == GRU:
        return _back_gru(dh, hp, aux, Ra, Rb, m, seen, dRa, dRb, dx), np.zeros_like(dc)
    one = np.ones(1, dtype=hp.dtype)[0]
    dcp = np.zeros_like(dc)
    H = hp.shape[1]
    for b in range(hp.shape[0]):
        if cell == RNN:
            for j in range(H):
                dx[b, j] = dh[b, j] * (one - h[b, j] * h[b, j])
            continue
        a = aux[b]
        for j in range(H):
            i, f, o, g, tc = a[H + j], a[2 * H + j], a[3 * H + j], a[4 * H + j], a[5 * H + j]
            dct = dc[b, j] + dh[b, j] * o * (one - tc * tc)
            dx[b, j] = dct * g * i * (one - i)
            dx[b, H + j] = dct * cp[b, j] * f * (one - f)
            dx[b, 2 * H + j] = dh[b, j] * tc * o * (one - o)
            dx[b, 3 * H + j] = dct * i * (one - g * g)
            dcp[b, j] = dct * f
    dRa += np.dot(seen.T, dx)
    return np.dot(dx, Ra.T) * m, dcp


@numba.njit(**JIT)
def _back_gru(dh, hp, aux, Ra, Rb, m, seen, dRa, dRb, dx):
    H, one = hp.shape[1], np.ones(1, dtype=hp.dtype)[0]
    rs = np.empty_like(seen)
    for b in range(hp.shape[0]):
        for j in range(H):
            z, n = aux[b, j], aux[b, 2 * H + j]
            rs[b, j] = aux[b, H + j] * seen[b, j]
            dx[b, 2 * H + j] = dh[b, j] * (one - z) * (one - n * n)
            dx[b, j] = dh[b, j] * (hp[b, j] - n) * z * (one - z)
    dan = np.ascontiguousarray(dx[:, 2 * H :])
    dRb += np.dot(rs.T, dan)
    drs = np.dot(dan, Rb.T)
    for b in range(hp.shape[0]):
        for j in range(H):
            r = aux[b, H + j]
            dx[b, H + j] = drs[b, j] * seen[b, j] * r * (one - r)
    dzr = np.ascontiguousarray(dx[:, : 2 * H])
    dRa += np.dot(seen.T, dzr)
    dseen = np.dot(dzr, Ra.T)
    for b in range(hp.shape[0]):
        for j in range(H):
            dseen[b, j] = dh[b, j] * aux[b, j] + (dseen[b, j] + drs[b, j] * aux[b, H + j]) * m[b, j]
    return dseen


@numba.njit(**JIT, inline="always")  # compiled into its one caller: one function less to compile
def forward(cell, xw, Ra, Rb, m, A, h0, c0):
    """States h (T×B×H) and saved activations aux (T×B×A) from the initial states h0, c0 (B×H;
    c0 is the LSTM's cell state, unused by the other cells)."""
    T, B, H = xw.shape[0], xw.shape[1], m.shape[1]
    h = np.zeros((T, B, H), dtype=xw.dtype)
    aux = np.zeros((T, B, A), dtype=xw.dtype)
    for t in range(T):
        hp = h[t - 1] if t > 0 else h0
        cp = np.ascontiguousarray(aux[t - 1, :, :H]) if (t > 0 and cell == LSTM) else c0
        step_forward(cell, np.ascontiguousarray(xw[t]), hp, cp, Ra, Rb, m, h[t], aux[t])
    return h, aux


@numba.njit(**JIT, inline="always")  # compiled into its one caller: one function less to compile
def previous(h, aux, cell, h0, c0):
    """The states before each step: (T×B×H) h and c, the initial states before step 0."""
    T, B, H = h.shape
    hp, cp = np.zeros_like(h), np.zeros_like(h)
    hp[0] = h0
    hp[1:] = h[:-1]
    if cell == LSTM:
        cp[0] = c0
        cp[1:] = aux[:-1, :, :H]
    return hp, cp


@numba.njit(**JIT, inline="always")  # compiled into its one caller: one function less to compile
def backward(cell, truncate, gh, h, aux, Ra, Rb, m, h0, c0):
    """(dxw, dRa, dRb) from the loss's gradients gh (T×B×H) on the states: full BPTT when
    `truncate` < 0, else the tutorial's per-output truncation (the gradient of output t goes
    back through steps t..t-truncate), as truncate+1 passes over all positions at once."""
    T, B, H = h.shape
    gH = Ra.shape[1] + Rb.shape[1]
    dxw = np.zeros((T, B, gH), dtype=h.dtype)
    dRa, dRb = np.zeros_like(Ra), np.zeros_like(Rb)
    hp, cp = previous(h, aux, cell, h0, c0)
    if truncate < 0:
        carry_h, carry_c = np.zeros((B, H), dtype=h.dtype), np.zeros((B, H), dtype=h.dtype)
        for t in range(T - 1, -1, -1):
            carry_h, carry_c = step_backward(
                cell, gh[t] + carry_h, carry_c, hp[t], cp[t], h[t], aux[t], Ra, Rb, m, dRa, dRb, dxw[t]
            )
        return dxw, dRa, dRb
    G, Gc = np.ascontiguousarray(gh), np.zeros_like(gh)
    for j in range(min(truncate, T - 1) + 1):
        n = T - j  # chain j is at steps 0..n-1 (for outputs j..T-1)
        rows = n * B
        mm = np.empty((rows, H), dtype=h.dtype)
        for i in range(n):
            mm[i * B : (i + 1) * B] = m
        dx = np.empty((rows, gH), dtype=h.dtype)
        dhp, dcp = step_backward(
            cell,
            G[:n].reshape(rows, H),
            Gc[:n].reshape(rows, H),
            hp[:n].reshape(rows, H),
            cp[:n].reshape(rows, H),
            h[:n].reshape(rows, H),
            aux[:n].reshape(rows, aux.shape[2]),
            Ra,
            Rb,
            mm,
            dRa,
            dRb,
            dx,
        )
        dxw[:n] += dx.reshape(n, B, gH)
        G, Gc = np.ascontiguousarray(dhp.reshape(n, B, H)[1:]), np.ascontiguousarray(dcp.reshape(n, B, H)[1:])
    return dxw, dRa, dRb


@numba.njit(**JIT, inline="always")  # compiled into its one caller: one function less to compile
def split(cell, R):
    """The recurrent products' matrices: rnn Wᵀ; gru U[:, :2H] and U[:, 2H:]; lstm U."""
    H = R.shape[0]
    empty = np.zeros((H, 0), dtype=R.dtype)
    if cell == RNN:
        return np.ascontiguousarray(R.T), empty
    if cell == GRU:
        return np.ascontiguousarray(R[:, : 2 * H]), np.ascontiguousarray(R[:, 2 * H :])
    return np.ascontiguousarray(R), empty


@numba.njit(**JIT, inline="always")  # compiled into its one caller: one function less to compile
def join(cell, dRa, dRb):
    if cell == RNN:
        return np.ascontiguousarray(dRa.T)
    if cell == GRU:
        return np.concatenate((dRa, dRb), axis=1)
    return dRa


@numba.njit(**JIT)
def run_forward(cell, xw, R, m, A, h0, c0):
    Ra, Rb = split(cell, R)
    xw, m = np.ascontiguousarray(xw), np.ascontiguousarray(m)
    return forward(cell, xw, Ra, Rb, m, A, np.ascontiguousarray(h0), np.ascontiguousarray(c0))


@numba.njit(**JIT)
def run_backward(cell, truncate, R, m, h, aux, gh, h0, c0):
    Ra, Rb = split(cell, R)
    dxw, dRa, dRb = backward(
        cell,
        truncate,
        np.ascontiguousarray(gh),
        np.ascontiguousarray(h),
        np.ascontiguousarray(aux),
        Ra,
        Rb,
        np.ascontiguousarray(m),
        np.ascontiguousarray(h0),
        np.ascontiguousarray(c0),
    )
    return dxw, join(cell, dRa, dRb)
