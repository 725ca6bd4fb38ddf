"""Sphinx configuration of the ae_reduce documentation."""

import os
import sys
from pathlib import Path

# Examples import TensorFlow; its C++ start-up messages are noise in the gallery.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ae_reduce

project = "ae_reduce"
author = "The ae_reduce developers"
copyright = "The ae_reduce developers"
version = release = ae_reduce.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
templates_path = ["_templates"]
html_theme = "alabaster"
html_static_path = []
html_theme_options = {"description": "Neural dimensionality reduction for scikit-learn"}

# -- API reference ------------------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Docstring examples are run by the test suite; here they are only shown.
numpydoc_use_plots = False
numpydoc_validation_checks = set()

# -- Examples gallery ---------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Every plot_*.py example is run; other files are shown as code only.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "min_reported_time": 1,
    "show_memory": False,
    # Timings belong in the build log, not in a source file beside conf.py.
    "write_computation_times": False,
    "doc_module": ("ae_reduce",),
    # A failing example fails the build: the gallery doubles as an integration test.
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}
