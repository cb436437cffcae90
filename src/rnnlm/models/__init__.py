"""Models. Importing the package sets up PyTensor's and Numba's environment first
(`environment.configure`: compile caches, BLAS, optimisation level, memory)."""

from rnnlm.models.environment import configure

configure()
