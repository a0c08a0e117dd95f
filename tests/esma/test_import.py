"""Importing esma must stay light: no kernel is compiled (or even loaded) until first use."""

from __future__ import annotations

import subprocess
import sys


def test_import_compiles_nothing():
    code = (
        "import sys, esma\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('esma.kernels.'))\n"
        "assert not loaded, loaded\n"
        "assert 'sympy' not in sys.modules\n"
        "import esma.kernels.scan as s, esma.kernels.bm as b, esma.kernels.cf as c\n"
        "fns = [s.scan_kernel, s.mobius_terms_kernel, s.bm_float_kernel, s.bm_scratch_size, b.bm_complexity_kernel,\n"
        "       b.bm_batch_kernel, b.bm_connection_kernel, c.extend_kernel, c.log10_growth_kernel]\n"
        "assert all(not f.signatures for f in fns), [f for f in fns if f.signatures]\n"
        "assert all(f._cache.__class__.__name__ == 'FunctionCache' for f in fns)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
