"""``python -m ae_reduce._cli``: the ``ae-reduce`` program."""

from . import run

run()
