"""Numba kernels.  Each module holds njit(cache=True) functions on int64 arrays with the modulus passed in and
no globals; each kernel has an exact pure-Python twin in the public module that wraps it (``esma.bm``)."""
