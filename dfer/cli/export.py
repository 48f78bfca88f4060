"""``dfer export``: a trained checkpoint as an ONNX file that ``dfer predict --model`` runs without torch."""

from __future__ import annotations

from pathlib import Path


def add_parser(commands) -> None:
    export = commands.add_parser(
        "export", help="a dfer train checkpoint as an ONNX file (runs without torch), checked against PyTorch",
        description="Export a dfer train checkpoint of any zoo model (2D, 2D-LSTM, 3D, two-stream, TSN, CEFLNet) "
        "to ONNX (opset 17, any batch size; the softmax is in the graph, probabilities are an output). The file's "
        "metadata holds the classes, the config's test sampler, transforms and window length, and the "
        "checkpoint's sha256, so `dfer predict VIDEO --model OUT` runs it with onnxruntime and no torch. "
        "onnxruntime is checked against PyTorch on random clips before the file is written (max |Δ| of the "
        "probabilities at most 1e-4); the run's MODEL_CARD.md (or one made from the checkpoint's config) goes "
        "beside it as NAME.MODEL_CARD.md, with an ONNX section.")
    export.add_argument("checkpoint", type=Path, help="a checkpoint of dfer train (e.g. runs/NAME/checkpoints/best.pt)")
    export.add_argument("--format", choices=("onnx",), default="onnx", help="the format to write (onnx)")
    export.add_argument("--out", type=Path, help="the .onnx file to write (default: beside the checkpoint, "
                        "CHECKPOINT.onnx); an existing file is replaced only if an earlier dfer export wrote it")
    export.set_defaults(run=run)


def run(args) -> int:
    from dfer.engine.export import OPSET, TOLERANCE, export

    result = export(args.checkpoint, args.out, args.format)
    shapes = ", ".join(f"{name} ({', '.join(map(str, shape))})" for name, shape in result.metadata["inputs"].items())
    print(f"{args.checkpoint} → {result.path} (ONNX opset {OPSET}, {result.metadata['model']}; inputs {shapes})")
    print(f"  onnxruntime against PyTorch on random clips (batch 2): max |Δ| of the probabilities "
          f"{result.max_delta:.1e} (at most {TOLERANCE:.0e})")
    print(f"  model card: {result.card}")
    print(f"  without torch: dfer predict VIDEO --model {result.path}")
    return 0
