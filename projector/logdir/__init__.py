"""Read TensorBoard projector logdirs and TensorFlow checkpoints without TensorFlow."""
