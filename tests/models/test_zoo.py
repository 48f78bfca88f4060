import pytest
import torch
from torchvision.models.video import R2Plus1D_18_Weights, R3D_18_Weights, r3d_18

from dfer.models import zoo
from dfer.models.frame2d import FrameCNN, FrameLSTM, backbone_2d
from dfer.models.two_stream import TwoStream
from dfer.models.video3d import C3D, P3D, P3DBlock
from dfer.models.zoo import FAMILIES, MODELS, ModelSpec, build_model, complexity, model_options, register, two_stream

BATCH, FRAMES = 2, 4


def tiny_options(name: str) -> dict:
    """Options that let ``name`` run on FRAMES-frame clips."""
    options = model_options(name)
    if "segments" in options:  # TSN: 2 segments of 1 flow field (2 frames)
        return {"segments": 2, "flow_length": FRAMES // 2 - 1}
    return {"num_frames": FRAMES} if "num_frames" in options else {}


@pytest.mark.parametrize("name", [name for name, spec in MODELS.items() if spec.family != "ceflnet"])
def test_every_model_forward_backward_and_contract(name):
    torch.manual_seed(0)
    model = build_model(name, num_classes=7, **tiny_options(name))
    video = torch.randn(BATCH, 3, FRAMES, 32, 32)
    scene = torch.randn(BATCH, 3, FRAMES, 32, 48) if MODELS[name].family == "two-stream" else None

    out = model(video, scene)
    assert set(out) == {"logits", "features"}
    assert out["logits"].shape == (BATCH, 7)
    assert out["features"].shape == (BATCH, model.feature_dim)
    out["logits"].sum().backward()
    assert model.classifier.weight.grad is not None
    first = next(p for p in model.parameters() if p.dim() > 1)
    assert first.grad is not None and first.grad.abs().sum() > 0

    model.eval()  # without dropout, the logits are the classifier applied to the features
    with torch.no_grad():
        out = model(video, scene)
        torch.testing.assert_close(model.classifier(out["features"]), out["logits"])
        torch.testing.assert_close(model.forward_features(video, scene), out["features"])


def test_table_covers_the_paper_rows():
    for spec in MODELS.values():
        assert spec.family in FAMILIES
        assert set(spec.paper_input) == ({"video", "scene"} if spec.family == "two-stream" else {"video"})
    assert "ceflnet" in MODELS
    ferv39k_two_stream = {"two_c3d", "two_i3d", "two_r3d_18", "two_resnet18_lstm", "two_vgg13_lstm"}
    dfew = {"c3d", "p3d", "r3d_18", "resnet3d_18", "i3d", "vgg11_lstm", "resnet18_lstm"}
    sdfe_lv = {"c3d", "r3d_18", "r2plus1d_18", "resnet18_lstm", "resnet50_lstm", "resnet101_lstm", "vgg13_lstm",
               "vgg16_lstm", "vgg19_lstm", "two_resnet50_lstm", "two_vgg19_lstm", "two_c3d", "tsn_resnet18",
               "tsn_resnet50", "tsn_resnet101"}
    assert ferv39k_two_stream | dfew | sdfe_lv <= set(MODELS)


def test_frame_cnn_needs_its_number_of_frames():
    model = FrameCNN(backbone="resnet18", num_frames=8)
    with pytest.raises(ValueError, match="num_frames=8 but got a clip of 4 frames"):
        model(torch.randn(1, 3, 4, 32, 32))
    with pytest.raises(ValueError, match=r"\(B, C, T, H, W\)"):
        model(torch.randn(3, 8, 32, 32))


def test_frame_lstm_takes_any_number_of_frames():
    model = FrameLSTM(backbone="resnet18", hidden=16).eval()
    for frames in (1, 3, 5):
        assert model(torch.randn(2, 3, frames, 32, 40))["features"].shape == (2, 16)


def test_vgg_without_batch_norm():
    model = build_model("vgg11", num_frames=2, batch_norm=False)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in build_model("vgg11", num_frames=2).modules())
    with pytest.raises(ValueError, match="only available for VGG backbones"):
        build_model("resnet18", batch_norm=False)


def test_backbones_are_global_pooled():
    for name, dim in (("resnet18", 512), ("vgg11", 512)):
        backbone, reported = backbone_2d(name)
        assert reported == dim
        assert backbone.eval()(torch.randn(1, 3, 32, 48)).shape == (1, dim)
    with pytest.raises(ValueError, match="resnet18, resnet50, resnet101, vgg11, vgg13, vgg16, vgg19"):
        backbone_2d("vgg21")


def test_two_stream_needs_the_scene_clip():
    model = two_stream("resnet18_lstm", hidden=8)
    assert model.feature_dim == 16 and model.face is not model.scene
    assert model.face.classifier is None and not any(key.startswith(("face.classifier", "scene.classifier"))
                                                     for key in model.state_dict())  # the streams' heads are gone
    with pytest.raises(RuntimeError, match="call forward_features"):
        model.face(torch.randn(1, 3, 2, 32, 32))
    with pytest.raises(ValueError, match="needs the scene clip"):
        model(torch.randn(1, 3, 2, 32, 32))
    with pytest.raises(ValueError, match="single-stream model name"):
        two_stream("two_c3d")
    with pytest.raises(ValueError, match="must be a ClipModel with the shared classifier head"):
        TwoStream(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="single-stream model name"):
        two_stream("ceflnet")


def test_build_model_errors():
    with pytest.raises(ValueError, match=r"unknown model 'resnet81'\. Did you mean 'resnet18'.*Known models: .*c3d"):
        build_model("resnet81")
    with pytest.raises(ValueError, match=r"'c3d' has no option 'hidden'; valid options: dropout=0\.5"):
        build_model("c3d", hidden=8)
    with pytest.raises(ValueError, match=r"'vgg13' has no option 'backbone'"):
        build_model("vgg13", backbone="resnet50")
    with pytest.raises(ValueError, match=r"'two_c3d' has no option 'num_frames'"):
        build_model("two_c3d", num_frames=8)
    with pytest.raises(ValueError, match="depth must be one of"):
        P3D(depth=34)
    with pytest.raises(ValueError, match="style"):
        P3DBlock(64, 16, "D")
    assert model_options("two_resnet18_lstm") == {"hidden": 1024, "dropout": 0.5}


def test_register_adds_names_once(monkeypatch):
    monkeypatch.setattr(zoo, "MODELS", dict(MODELS))
    spec = ModelSpec("tiny", "clip", C3D, {"video": (3, 2, 16, 16)}, "a registered model")
    register(spec)
    assert zoo.MODELS["tiny"] is spec and "tiny" not in MODELS
    assert isinstance(zoo.build_model("tiny", num_classes=3), C3D)
    with pytest.raises(ValueError, match="already registered"):
        register(spec)


def test_complexity_of_every_model_at_its_paper_input():
    for name in MODELS:
        info = complexity(name)
        assert set(info) == {"name", "params", "macs", "input", "torchvision_weights"}
        assert info["name"] == name and info["input"] == dict(MODELS[name].paper_input)
        assert info["params"] > 0 and info["macs"] > 0


def test_complexity_matches_reference_figures():
    # torchvision's documented operation counts (GMACs) of its video ResNets at 16 × 112 × 112.
    assert complexity("r3d_18")["macs"] / 1e9 == pytest.approx(R3D_18_Weights.KINETICS400_V1.meta["_ops"], abs=1e-3)
    assert complexity("r2plus1d_18")["macs"] / 1e9 == pytest.approx(
        R2Plus1D_18_Weights.KINETICS400_V1.meta["_ops"], abs=1e-3)
    assert complexity("r3d_18")["params"] == sum(p.numel() for p in r3d_18(num_classes=7).parameters())
    # Classic C3D: 78.02 M parameters with 7 classes, 79.99 M with Sports-1M's 487 (CEFLNet's figure).
    assert complexity("c3d")["params"] == 78_024_455
    assert complexity("c3d", num_classes=487)["params"] == 79_991_015
    # LSTM MACs are counted: T · 4H(D + H) on top of the per-frame backbone.
    difference = complexity("resnet18_lstm")["macs"] - complexity("resnet18")["macs"]
    assert difference == 8 * 4 * 1024 * (512 + 1024) + 1024 * 7 - 8 * 512 * 7
    custom = complexity("resnet18", {"video": (3, 4, 64, 64)}, num_frames=4)
    assert custom["input"] == {"video": (3, 4, 64, 64)} and custom["macs"] < complexity("resnet18")["macs"]


def test_c3d_standard_geometry():
    with torch.device("meta"):  # shapes only
        pool5 = C3D().convs[:-2](torch.empty(1, 3, 16, 112, 112))
    assert pool5.shape == (1, 512, 1, 4, 4)  # the classic pool5 output, before the adaptive pool
