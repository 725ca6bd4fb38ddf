"""Everything that touches Keras and TensorFlow: runtime state, networks, training."""
