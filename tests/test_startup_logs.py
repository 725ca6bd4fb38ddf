"""TensorFlow's C++ start-up lines stay off standard error unless the user asks for them.

TensorFlow 2.21 logs from C++ while it is imported, before it reads
``TF_CPP_MIN_LOG_LEVEL``: absl's "All log messages before absl::InitializeLog() is called
are written to STDERR", a oneDNN notice and "Could not find cuda drivers on your machine",
each twice. Those lines appear in the fit below when the filtering in
``ae_reduce._keras.backend.import_keras`` is turned off. Each test starts a fresh interpreter,
because only the first import of TensorFlow in a process prints them.
"""

import os
import re
import subprocess
import sys

import pytest

from ae_reduce._keras.runtime import startup_log_filtered

# The markers are shorter than the lines, which TensorFlow words differently across
# versions and machines.
STARTUP_MARKERS = ("absl::InitializeLog", "oneDNN", "cuda drivers", "cuInit", "cpu_feature_guard")
LOG_RECORD = re.compile(r"^[IWEF]\d{4} [\d:.]+ +\d+ ", re.MULTILINE)

SMALL_FIT = """
import numpy as np
from ae_reduce import KerasAutoencoderTransformer

X = np.random.RandomState(0).rand(60, 5)
KerasAutoencoderTransformer(2, epochs=2, random_state=0).fit_transform(X)
print("fitted")
"""
IMPORT_KERAS = "from ae_reduce._keras.backend import import_keras; import_keras(verbose={verbose})"
BARE_IMPORT = "import tensorflow as tf; tf.config.list_physical_devices('GPU')"


def _run(code, log_level=None):
    """Run ``code`` in a fresh interpreter; ``log_level`` None leaves the variable unset."""
    env = dict(os.environ)
    # This test process may have set the variable itself by fitting something earlier.
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    if log_level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = log_level
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _messages(stderr):
    """Lines without the timestamp and thread id that change from run to run."""
    return {LOG_RECORD.sub("", line) for line in stderr.splitlines() if line.strip()}


def test_a_fit_in_a_fresh_interpreter_prints_no_startup_lines():
    result = _run(SMALL_FIT)
    assert result.returncode == 0, result.stderr
    assert "fitted" in result.stdout
    for marker in STARTUP_MARKERS:
        assert marker not in result.stderr
    assert not LOG_RECORD.search(result.stderr), result.stderr


@pytest.mark.parametrize(
    "log_level, verbose, bare_log_level",
    [
        # An explicit TF_CPP_MIN_LOG_LEVEL=0 asks for every line.
        ("0", 0, "0"),
        # verbose > 0 shows what TensorFlow prints at the default level of 3.
        (None, 1, "3"),
    ],
)
def test_startup_lines_are_shown_when_asked_for(log_level, verbose, bare_log_level):
    bare = _run(BARE_IMPORT, log_level=bare_log_level)
    assert bare.returncode == 0, bare.stderr
    expected = _messages(bare.stderr)
    if not expected:
        pytest.skip("this TensorFlow build prints nothing at start-up")
    result = _run(IMPORT_KERAS.format(verbose=verbose), log_level=log_level)
    assert result.returncode == 0, result.stderr
    assert expected <= _messages(result.stderr)


def test_a_missing_tensorflow_is_reported_and_stderr_restored():
    code = (
        "import os, sys\n"
        "sys.modules['tensorflow'] = None\n"
        "from ae_reduce._keras.backend import import_keras\n"
        "try:\n"
        "    import_keras()\n"
        "except ImportError as error:\n"
        "    os.write(2, b'written after the failed import\\n')\n"
        "    raise\n"
    )
    result = _run(code)
    assert result.returncode == 1
    assert "written after the failed import" in result.stderr
    assert "Traceback" in result.stderr
    assert "tensorflow" in result.stderr


FILTER_WITH_OTHER_OUTPUT = """
import os, sys, warnings
from ae_reduce._keras.runtime import startup_log_filtered

before = os.fstat(2)
try:
    with startup_log_filtered(3):
        os.write(2, NOISE + b"a line in no log format\\n")
        warnings.warn("a Python warning")
        raise RuntimeError("raised inside")
except RuntimeError as error:
    print(error)
after = os.fstat(2)
assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
sys.stderr.write("written afterwards\\n")
"""
NOISE = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to "
    b"STDERR\n"
    b"I0000 00:00:1795259104.764277    2792 port.cc:153] oneDNN custom operations are on.\n"
    b"E0000 00:00:1795259107.028060    2792 cuda_platform.cc:52] failed call to cuInit\n"
)


def test_the_filter_keeps_other_output_and_restores_stderr():
    # Python writes warnings through sys.stderr to file descriptor 2, which pytest's own
    # capturing would bypass: hence a fresh interpreter.
    result = _run(f"NOISE = {NOISE!r}\n{FILTER_WITH_OTHER_OUTPUT}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "raised inside"
    assert "a line in no log format" in result.stderr
    assert "a Python warning" in result.stderr
    assert result.stderr.endswith("written afterwards\n")
    for marker in STARTUP_MARKERS:
        assert marker not in result.stderr


def test_the_filter_follows_the_log_level(capfd):
    with startup_log_filtered(2):
        os.write(
            2,
            b"I0000 00:00:1.0    1 port.cc:153] an information\n"
            b"E0000 00:00:1.0    1 cuda_platform.cc:52] an error\n",
        )
    err = capfd.readouterr().err
    assert "an information" not in err
    assert "an error" in err
