"""The ``ae-reduce`` command line."""

import argparse
import sys
from pathlib import Path


def _demo(args):
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._autoencoder import KerasAutoencoderTransformer

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    X, y = load_digits(return_X_y=True)
    X_train, X_test = train_test_split(X, random_state=0, stratify=y)
    print(f"Digits: {X_train.shape[0]} training and {X_test.shape[0]} test rows.", file=sys.stderr)

    errors = {}
    for name, reducer in {
        "PCA": PCA(n_components=args.n_components),
        "autoencoder": KerasAutoencoderTransformer(
            n_components=args.n_components, random_state=0, verbose=0 if args.quiet else 2
        ),
    }.items():
        model = make_pipeline(StandardScaler(), reducer).fit(X_train)
        scaled = model[0].transform(X_test)
        reconstruction = model[1].inverse_transform(model[1].transform(scaled))
        errors[name] = float(np.mean((scaled - reconstruction) ** 2))
        np.save(out / f"{name.lower()}_embedding.npy", model.transform(X_test))
    print(f"Test reconstruction error with {args.n_components} components:")
    for name, error in errors.items():
        print(f"  {name:12s} {error:.4f}")
    print(f"  ratio        {errors['autoencoder'] / errors['PCA']:.3f} (autoencoder / PCA)")
    print(f"Embeddings written to {out.resolve()}")
    return 0


def build_parser():
    """Return the argument parser of the ``ae-reduce`` command."""
    parser = argparse.ArgumentParser(
        prog="ae-reduce",
        description="Neural dimensionality reduction for tabular data.",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print no progress")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit an autoencoder and PCA on the built-in digits data and compare them"
    )
    demo.add_argument("--out", default="ae_reduce_demo", help="folder for the outputs")
    demo.add_argument("--n-components", type=int, default=8, help="width of the code")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv=None):
    """Run the ``ae-reduce`` command line and return its exit status."""
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
