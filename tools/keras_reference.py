"""Make tests/models/data/keras_reference.npz: the original Keras model's outputs on fixed inputs.

Run once, in a throwaway environment with Keras (never a dfer dependency):

    python -m venv /tmp/kenv && /tmp/kenv/bin/pip install keras jax h5py numpy
    .venv/bin/python tools/keras_reference.py faces        # writes the input faces (needs dfer)
    KERAS_BACKEND=jax /tmp/kenv/bin/python tools/keras_reference.py outputs   # adds Keras' outputs

Inputs: grey 64 × 64 face crops cut by dfer's default-model crop from the fixture videos at
several moments, plus two random images. tests/predict/test_mini_xception.py checks the PyTorch
port against the stored outputs.
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "fixtures"
TARGET = ROOT / "tests" / "models" / "data" / "keras_reference.npz"
MOMENTS = {"single_face.mp4": (0, 10, 40, 70), "WolfgangLanger_Pexels.mp4": (30, 200, 420)}


def faces() -> None:
    import cv2

    from dfer.faces.track import FaceTracker
    from dfer.io.video import iter_frames
    from dfer.models.default import DefaultClassifier

    crops = []
    for name, moments in MOMENTS.items():
        tracker = FaceTracker.shared()
        for frame, found in tracker.track(iter_frames(SHARED / "videos" / name)):
            if frame.index in moments and found:
                crops.append(DefaultClassifier.crop(cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY), found[0].box))
    rng = np.random.default_rng(0)
    crops += [rng.integers(0, 256, (64, 64), dtype=np.uint8) for _ in range(2)]
    np.savez_compressed(TARGET, faces=np.stack(crops))
    print(f"{len(crops)} faces → {TARGET}")


def outputs() -> None:
    import keras

    model = keras.models.load_model(SHARED / "models" / "emotion_model.hdf5", compile=False)
    grey = np.load(TARGET)["faces"]
    x = ((grey.astype("float32") / 255.0) - 0.5) * 2.0  # fer's preprocessing
    probabilities = model.predict(x[..., None], verbose=0)
    np.savez_compressed(TARGET, faces=grey, probabilities=probabilities.astype(np.float32),
                        keras_version=np.array(keras.__version__), backend=np.array(keras.backend.backend()))
    print(f"Keras {keras.__version__} ({keras.backend.backend()}) outputs {probabilities.shape} → {TARGET}")


if __name__ == "__main__":
    {"faces": faces, "outputs": outputs}[sys.argv[1]]()
