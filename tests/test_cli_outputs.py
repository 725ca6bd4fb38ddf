"""Where the command line writes: outputs it cannot write are refused before training."""

import sys

import numpy as np
import pytest

from ae_reduce._cli import main


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux's /proc")
@pytest.mark.parametrize("output", ["/proc/z.csv", "/proc/sub/z.csv"])
def test_an_output_folder_that_cannot_take_a_file_is_refused_before_training(
    tmp_path, capsys, output
):
    # Regression: the run trained, then failed naming a hidden temporary file. No file
    # can be made in /proc, even by root, who may write to folders that permissions
    # close to others.
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(30, 4)))
    arguments = ["embed", str(tmp_path / "x.npy"), "-o", output, "--epochs", "50"]
    assert main([*arguments, "--hidden-layer-sizes", "4"]) == 2
    err = capsys.readouterr().err
    assert f"--output {output} cannot be written: no file can be made in the folder /proc" in err
    assert "epoch" not in err
