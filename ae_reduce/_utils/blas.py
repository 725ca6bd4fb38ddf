"""BLAS on one thread around the numpy and scipy work that fixes a network's start.

How OpenBLAS or MKL splits a matrix product or a factorisation between threads changes
the order of its sums, and so the last bits of the result. The same PCA therefore
differs between a process whose BLAS uses every core and a Dask or loky worker, which
both start BLAS on one thread; trained from those two starts, an autoencoder's codes
differed by up to 1e-4 on MNIST-shaped data. One thread is the count every process can
have, so the start, and everything trained from it, is the same wherever a fit runs.
"""

import contextlib
import threading

# The limit is process-wide and restored to what was found on exit: two threads inside
# at once could restore each other's setting, run with several threads after all, or
# leave BLAS on one thread for good.
_LOCK = threading.Lock()
_controller = None


@contextlib.contextmanager
def single_blas_thread():
    """Run the block with every loaded BLAS library on one thread, then restore them.

    Only the BLAS libraries loaded when this is first entered are limited; numpy's and
    scipy's are loaded by then.
    """
    global _controller
    with _LOCK:
        if _controller is None:
            # Scanning the loaded libraries takes milliseconds: once per process.
            from threadpoolctl import ThreadpoolController

            _controller = ThreadpoolController()
        with _controller.limit(limits=1, user_api="blas"):
            yield
