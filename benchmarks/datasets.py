"""Data generators shared by the benchmarks; none downloads anything.

* :func:`lifted_s_curve`: scikit-learn's S-curve lifted to many dimensions by a fixed
  smooth nonlinear map, a thin manifold that no linear projection flattens.
* :func:`augmented_digits`: random variants (rotation, scaling, shift, elastic bending,
  pixel noise) of scikit-learn's 8x8 digits, upscaled to a larger square.
* :func:`mnist_like` and :func:`mnist_like_split`: 28x28 variants of those digits, a
  stand-in of MNIST's shape (784 pixels in [0, 1], ten classes). The split draws its
  test rows from source digits that no training row came from.
* :func:`topic_corpus` and :func:`topic_word_vectors`: short documents of invented
  words on a few topics, and word vectors that know which topic a word belongs to, a
  stand-in for a text-classification set and pretrained vectors such as GloVe.

Import from the repository root, as the scripts do when run as
``python benchmarks/<script>.py``: ``from datasets import mnist_like_split``.
"""

import numpy as np
from scipy import ndimage
from sklearn.datasets import load_digits, make_s_curve
from sklearn.model_selection import train_test_split

#: Augmentation of :func:`mnist_like`: shifts of up to 3 pixels, rotations of up to 15
#: degrees and Gaussian pixel noise, with neither scaling nor elastic bending.
MNIST_LIKE_AUGMENTATION = {
    "max_angle": 15.0,
    "scale_range": (1.0, 1.0),
    "max_shift": 3.0,
    "elastic": 0.0,
    "noise": 0.1,
}


def lifted_s_curve(n_samples, n_features=64, noise=0.05, random_state=0):
    """Sample an S-curve lifted to `n_features` dimensions by a fixed smooth map.

    The points of :func:`sklearn.datasets.make_s_curve` (a two-dimensional manifold in
    three dimensions) are standardised, multiplied by a random 3 x `n_features` Gaussian
    matrix, shifted by a random phase per feature and passed through ``sin``; Gaussian
    noise is added last. Two components describe the result exactly for a nonlinear
    map, but not for a linear one.

    Parameters
    ----------
    n_samples : int
        Number of points.

    n_features : int, default=64
        Dimension of the lifted space.

    noise : float, default=0.05
        Standard deviation of the Gaussian noise added after lifting.

    random_state : int, default=0
        Seeds the curve, the map and the noise; the map is fixed for a given seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The lifted points, float64.
    """
    rng = np.random.default_rng(random_state)
    points, _ = make_s_curve(n_samples, random_state=random_state)
    points = (points - points.mean(axis=0)) / points.std(axis=0)
    projection = rng.standard_normal((3, n_features))
    phase = rng.uniform(0, 2 * np.pi, n_features)
    X = np.sin(points @ projection + phase)
    return X + noise * rng.standard_normal(X.shape)


def _distort(image, rng, max_angle, scale_range, max_shift, elastic, noise):
    """Return one random variant of a square image, clipped to [0, 1]."""
    side = image.shape[0]
    angle = np.deg2rad(rng.uniform(-max_angle, max_angle))
    scale = rng.uniform(*scale_range)
    shift = rng.uniform(-max_shift, max_shift, size=2)
    centre = (side - 1) / 2
    rows, cols = np.mgrid[0:side, 0:side].astype(float)
    # Inverse mapping: where in the source each output pixel comes from.
    y, x = rows - centre - shift[0], cols - centre - shift[1]
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    source_y = cos * y - sin * x + centre
    source_x = sin * y + cos * x + centre
    if elastic > 0:
        # A smooth random displacement field bends the strokes a little.
        for grid in (source_y, source_x):
            grid += ndimage.gaussian_filter(rng.normal(size=(side, side)), 3.0) * elastic
    warped = ndimage.map_coordinates(image, [source_y, source_x], order=1, mode="constant")
    warped += rng.normal(scale=noise, size=warped.shape)
    return np.clip(warped, 0.0, 1.0)


def augmented_digits(
    images,
    labels,
    n_samples,
    *,
    side=16,
    max_angle=12.0,
    scale_range=(0.9, 1.1),
    max_shift=1.0,
    elastic=6.0,
    noise=0.05,
    random_state=0,
):
    """Draw random variants of 8x8 digit images, upscaled to `side` x `side` pixels.

    The images (scikit-learn's :func:`~sklearn.datasets.load_digits` rows, values 0 to
    16) are scaled to [0, 1] and upscaled by linear interpolation
    (:func:`scipy.ndimage.zoom`). Each output row is a source image picked at random
    with replacement, then rotated, scaled and shifted about the centre, optionally
    bent by a smooth random displacement field, and noised.

    Parameters
    ----------
    images : ndarray of shape (n_images, 64)
        Source digits, as in ``load_digits().data``.

    labels : ndarray of shape (n_images,)
        Their classes.

    n_samples : int
        Number of rows to draw.

    side : int, default=16
        Width and height of the output images, in pixels.

    max_angle : float, default=12.0
        Largest rotation, in degrees, either way.

    scale_range : tuple of float, default=(0.9, 1.1)
        Range of the uniform random scale factor.

    max_shift : float, default=1.0
        Largest shift along each axis, in output pixels, either way.

    elastic : float, default=6.0
        Amplitude of the displacement field (Gaussian noise smoothed with a standard
        deviation of 3 pixels, times this); 0 turns bending off.

    noise : float, default=0.05
        Standard deviation of the Gaussian noise added to each pixel before clipping.

    random_state : int or numpy.random.Generator, default=0
        Seeds the picks and the augmentations.

    Returns
    -------
    X : ndarray of shape (n_samples, side * side)
        The images, row by row, float64 in [0, 1].

    y : ndarray of shape (n_samples,)
        The class of each row's source digit.
    """
    rng = np.random.default_rng(random_state)
    zoom = side / 8
    big = ndimage.zoom(np.asarray(images).reshape(-1, 8, 8) / 16.0, (1, zoom, zoom), order=1)
    picks = rng.integers(0, len(big), size=n_samples)
    augmentation = (max_angle, scale_range, max_shift, elastic, noise)
    X = np.stack([_distort(big[i], rng, *augmentation).ravel() for i in picks])
    return X, np.asarray(labels)[picks]


def mnist_like(n_samples, *, random_state=0):
    """Draw MNIST-shaped images: scikit-learn's digits at 28x28, randomly augmented.

    Each row is one of the 1,797 digits of :func:`~sklearn.datasets.load_digits`,
    picked at random, upscaled to 28x28, shifted by up to 3 pixels along each axis,
    rotated by up to 15 degrees and noised (Gaussian, standard deviation 0.1, then
    clipped): see :data:`MNIST_LIKE_AUGMENTATION`. Use :func:`mnist_like_split` for a
    test set whose source digits differ from the training set's.

    Parameters
    ----------
    n_samples : int
        Number of rows.

    random_state : int or numpy.random.Generator, default=0
        Seeds the picks and the augmentations.

    Returns
    -------
    X : ndarray of shape (n_samples, 784)
        Pixels in [0, 1], float32.

    y : ndarray of shape (n_samples,)
        Digit classes, 0 to 9.
    """
    digits = load_digits()
    X, y = augmented_digits(
        digits.data,
        digits.target,
        n_samples,
        side=28,
        random_state=random_state,
        **MNIST_LIKE_AUGMENTATION,
    )
    return X.astype(np.float32), y


def mnist_like_split(n_train=9000, n_test=3000, *, test_size=0.3, random_state=0):
    """Draw MNIST-shaped training and test rows from disjoint source digits.

    The 1,797 source digits are first split, stratified by class, into
    ``1 - test_size`` and `test_size` parts; the training rows are augmentations of the
    first part only and the test rows of the second, as in :func:`mnist_like`. A test
    row is never a variant of a digit the model has seen, so the test score measures
    generalisation to new handwriting, not recognition of a near copy.

    Parameters
    ----------
    n_train : int, default=9000
        Number of training rows.

    n_test : int, default=3000
        Number of test rows.

    test_size : float, default=0.3
        Fraction of the source digits reserved for the test rows.

    random_state : int, default=0
        Seeds the split of the source digits and both sets of augmentations.

    Returns
    -------
    X_train : ndarray of shape (n_train, 784)
        Training pixels in [0, 1], float32.

    X_test : ndarray of shape (n_test, 784)
        Test pixels in [0, 1], float32.

    y_train : ndarray of shape (n_train,)
        Training classes.

    y_test : ndarray of shape (n_test,)
        Test classes.
    """
    digits = load_digits()
    train_images, test_images, train_labels, test_labels = train_test_split(
        digits.data,
        digits.target,
        test_size=test_size,
        random_state=random_state,
        stratify=digits.target,
    )
    train_rng, test_rng = np.random.default_rng(random_state).spawn(2)
    sets = []
    for images, labels, n_samples, rng in (
        (train_images, train_labels, n_train, train_rng),
        (test_images, test_labels, n_test, test_rng),
    ):
        X, y = augmented_digits(
            images, labels, n_samples, side=28, random_state=rng, **MNIST_LIKE_AUGMENTATION
        )
        sets.append((X.astype(np.float32), y))
    (X_train, y_train), (X_test, y_test) = sets
    return X_train, X_test, y_train, y_test


#: Syllables of the invented words of :func:`topic_corpus`.
_SYLLABLES = (
    "ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu "
    "na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu "
    "va ve vi vo vu za ze zi zo zu"
).split()


def _topic_vocabulary(n_words, n_topics, words_per_topic, random_state):
    """Invented words, the background's Zipf weights, and each topic's own words."""
    rng = np.random.default_rng(random_state)
    words = []
    seen = set()
    while len(words) < n_words:
        word = "".join(rng.choice(_SYLLABLES, rng.integers(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    words = np.array(words)
    background = 1.0 / np.arange(1, n_words + 1) ** 1.1
    background /= background.sum()
    # Topic words come from beyond the 100 most common words; each topic shares a
    # fifth of its words with the next topic, so topics overlap.
    pool = rng.permutation(np.arange(100, n_words))
    own = [pool[i * words_per_topic : (i + 1) * words_per_topic] for i in range(n_topics)]
    shared = words_per_topic // 5
    topics = [np.r_[own[i], own[(i + 1) % n_topics][:shared]] for i in range(n_topics)]
    return words, background, topics


def topic_corpus(
    n_documents,
    *,
    n_topics=8,
    n_words=5000,
    words_per_topic=80,
    topic_share=0.08,
    random_state=0,
):
    """Generate short documents of invented words, each about one topic.

    Every word of a document is drawn from the topic's own words with probability
    `topic_share`, and otherwise from a Zipf-distributed background shared by all
    topics (the "the", "of" and "and" of the invented language). Each topic shares a
    fifth of its words with the next one. Documents have 10 to 120 words, start with
    a capital letter and carry commas and full stops, so that a tokenizer has some
    work to do. A bag-of-words classifier reaches good but imperfect accuracy.

    Parameters
    ----------
    n_documents : int
        Number of documents.
    n_topics : int, default=8
        Number of topics (classes).
    n_words : int, default=5000
        Size of the invented vocabulary.
    words_per_topic : int, default=80
        Number of words of each topic's own.
    topic_share : float, default=0.08
        Probability that a word is drawn from the document's topic.
    random_state : int, default=0
        Seeds the vocabulary (the same for every call with the same seed and sizes)
        and the documents.

    Returns
    -------
    texts : list of str
        The documents.
    topics : ndarray of shape (n_documents,)
        The topic of each document, 0 to ``n_topics - 1``.
    """
    words, background, topic_words = _topic_vocabulary(
        n_words, n_topics, words_per_topic, random_state
    )
    rng = np.random.default_rng([random_state, n_documents])
    topics = rng.integers(0, n_topics, n_documents)
    lengths = rng.integers(10, 121, n_documents)
    texts = []
    for topic, length in zip(topics, lengths, strict=True):
        from_topic = rng.random(length) < topic_share
        drawn = rng.choice(n_words, size=length, p=background)
        drawn[from_topic] = rng.choice(topic_words[topic], size=int(from_topic.sum()))
        tokens = list(words[drawn])
        tokens[0] = tokens[0].capitalize()
        for position in rng.choice(length, size=length // 8, replace=False):
            tokens[position] += rng.choice([",", ".", ";"])
        texts.append(" ".join(tokens) + ".")
    return texts, topics


def topic_word_vectors(
    dim=50, *, n_topics=8, n_words=5000, words_per_topic=80, missing=0.1, random_state=0
):
    """Word vectors for the vocabulary of :func:`topic_corpus`, as pretrained ones are.

    A topic's words lie around the topic's own direction and background words around
    the origin, with noise, so averaging a document's vectors points towards its
    topic, as averaged GloVe vectors do for real text. A fraction `missing` of the
    corpus's words have no vector (out of vocabulary), and 1,000 words that never
    occur in the corpus have one.

    Parameters
    ----------
    dim : int, default=50
        Length of the vectors.
    n_topics, n_words, words_per_topic : int
        As given to :func:`topic_corpus`, whose vocabulary this matches.
    missing : float, default=0.1
        Fraction of the corpus's words left without a vector.
    random_state : int, default=0
        The seed given to :func:`topic_corpus`.

    Returns
    -------
    vectors : dict of str to ndarray of shape (dim,)
        float32 vectors, keyed by lowercase word.
    """
    words, _, topic_words = _topic_vocabulary(n_words, n_topics, words_per_topic, random_state)
    rng = np.random.default_rng([random_state, dim])
    directions = rng.normal(size=(n_topics, dim))
    centres = np.zeros((n_words, dim))
    counts = np.zeros(n_words)
    for topic, members in enumerate(topic_words):
        centres[members] += directions[topic]
        counts[members] += 1
    centres /= np.maximum(counts, 1)[:, None]
    vectors = centres + 0.7 * rng.normal(size=(n_words, dim))
    kept = rng.random(n_words) >= missing
    table = {
        word: vector.astype(np.float32)
        for word, vector, keep in zip(words, vectors, kept, strict=True)
        if keep
    }
    for index in range(1000):
        table[f"zz{index}"] = rng.normal(size=dim).astype(np.float32)
    return table
