"""Our PyTensor Ops, one module each, with their maths in the module's docstring.

As in PyTensor itself, an Op's module holds its definition (`make_node`, `perform` in numpy,
its gradient) and its Numba implementation (registered with PyTensor's Numba dispatch), and
the kernels' shared pieces live in `_numba` (compile flags, fast float32 math,
log-sum-exp). `perform` makes every mode (the Python VM, the C backend) compute the same
thing; FAST_RUN runs the Numba kernels.

* `softmax_cross_entropy`: the full output layer's fused loss and gradient;
* `log_softmax`: the log-softmax of rows, whole or within segments (generation, scoring);
* `recurrence`: a recurrent layer's whole recurrence and its (truncated) BPTT;
* `class_word_nll`: the class-factored output's within-class term;
* `scattered_norm`: a lookup table's gradient norm from its rows (sparse SGD).
"""
