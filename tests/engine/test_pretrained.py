"""Pretrained and transfer training: weights by name and shape, torchvision's cache, freezing, rates."""

import json
import pickle
import urllib.error

import pytest
import torch
from torchvision.models import resnet18, vgg13_bn

from dfer.engine.config import load_config
from dfer.engine.pretrained import load_pretrained, match
from dfer.engine.trainer import build_from_config, freeze, make_optimizer
from dfer.models.zoo import build_model

pytestmark = pytest.mark.xdist_group(__name__)  # on one xdist worker: its module fixtures are built once

TINY_LSTM = ["model.name=resnet18_lstm", "model.options={hidden: 16}"]


@pytest.fixture(scope="module")
def imagenet_like(tmp_path_factory):
    """A torchvision resnet18 state dict saved as torchvision publishes it (random weights: the
    point is where each tensor goes)."""
    torch.manual_seed(11)
    state = resnet18(weights=None).state_dict()
    path = tmp_path_factory.mktemp("weights") / "resnet18.pth"
    torch.save(state, path)
    return path, state


def test_torchvision_state_dict_fills_the_backbone_and_leaves_the_rest_new(imagenet_like):
    path, state = imagenet_like
    config = load_config(None, [*TINY_LSTM, f"model.pretrained={path}"])
    model, _, transfer = build_from_config(config)
    own = model.state_dict()
    assert transfer.loaded["backbone.conv1.weight"] == "conv1.weight"
    for target, name in transfer.loaded.items():
        assert torch.equal(own[target], state[name]), target
    assert len(transfer.loaded) == len(state) - 2  # all but ImageNet's fc.weight / fc.bias
    assert set(transfer.skipped) == {"fc.weight", "fc.bias"}
    assert {"lstm.weight_ih_l0", "classifier.weight", "norm.weight"} <= set(transfer.missing)
    assert not any(name.startswith("backbone.") for name in transfer.missing)


def test_both_streams_and_vgg_layers_are_matched_by_renaming():
    shapes = {name: tuple(t.shape) for name, t in build_model("two_resnet18_lstm", hidden=8).state_dict().items()}
    file = {name: tuple(t.shape) for name, t in resnet18(weights=None).state_dict().items()}
    transfer = match(shapes, file)
    assert transfer.loaded["face.backbone.layer4.1.bn2.weight"] == "layer4.1.bn2.weight"
    assert transfer.loaded["scene.backbone.layer4.1.bn2.weight"] == "layer4.1.bn2.weight"
    assert len(transfer.loaded) == 2 * (len(file) - 2)
    # torchvision's VGG keeps its layers under "features."; dfer's under "backbone.0."
    vgg = {name: tuple(t.shape) for name, t in vgg13_bn(weights=None).state_dict().items()}
    model = {name: tuple(t.shape) for name, t in build_model("vgg13_lstm", hidden=8).state_dict().items()}
    transfer = match(model, vgg)
    assert transfer.loaded["backbone.0.0.weight"] == "features.0.weight"
    assert sum(name.startswith("features.") for name in transfer.loaded.values()) == sum(
        name.startswith("features.") for name in vgg)
    assert "classifier.0.weight" in transfer.skipped  # VGG's fc6, which dfer's backbone leaves out


def test_a_dfer_checkpoint_transfers_and_a_head_of_another_size_stays_new(tmp_path):
    from dfer.engine import checkpoint

    torch.manual_seed(3)
    source = build_model("resnet18_lstm", num_classes=5, hidden=16)
    path = tmp_path / "best.pt"
    checkpoint.save(path, {"model": source.state_dict(), "model_name": "resnet18_lstm", "epoch": 4})
    model = build_model("resnet18_lstm", hidden=16)
    transfer = load_pretrained(model, str(path))
    assert set(transfer.missing) == {"classifier.weight", "classifier.bias"}
    assert "shape (5, 16)" in transfer.skipped["classifier.weight"]
    assert torch.equal(model.lstm.weight_hh_l0, source.lstm.weight_hh_l0)


def test_torchvision_weights_come_from_the_torch_cache_offline(tmp_path, monkeypatch, imagenet_like):
    path, state = imagenet_like
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)

    def offline(url, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    model = build_model("ceflnet", clip_dim=32)
    with pytest.raises(ValueError) as error:
        load_pretrained(model, "torchvision:IMAGENET1K_V1")
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert str(cached) in str(error.value) and "https://download.pytorch.org/models/resnet18-f37072fd.pth" in str(
        error.value)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(path.read_bytes())
    transfer = load_pretrained(model, "torchvision:IMAGENET1K_V1")
    assert torch.equal(model.backbone.layer3[0].conv1.weight, state["layer3.0.conv1.weight"])
    assert len(transfer.loaded) == len(state) - 2
    with pytest.raises(ValueError, match="IMAGENET1K_V1"):  # the choices are named
        load_pretrained(model, "torchvision:KINETICS400_V1")
    with pytest.raises(ValueError, match="no torchvision counterpart"):
        load_pretrained(build_model("c3d"), "torchvision:KINETICS400_V1")


def test_files_that_are_not_state_dicts_are_refused_without_running_them(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("code ran",))

    pickled = tmp_path / "evil.pt"
    pickled.write_bytes(pickle.dumps({"model": Payload()}))
    model = build_model("resnet18_lstm", hidden=8)
    with pytest.raises(ValueError, match="evil.pt: refused: it holds .*could run code"):
        load_pretrained(model, str(pickled))
    with pytest.raises(ValueError, match="no such file"):
        load_pretrained(model, str(tmp_path / "absent.pt"))
    other = tmp_path / "other.pt"
    torch.save({"encoder.weight": torch.zeros(3, 3)}, other)
    with pytest.raises(ValueError, match="none of its 1 tensors fits"):
        load_pretrained(model, str(other))


def test_freeze_and_backbone_rate(imagenet_like):
    path, _ = imagenet_like
    config = load_config(None, [*TINY_LSTM, f"model.pretrained={path}", "optim.lr=0.1", "optim.backbone_lr_mult=0.1",
                                "train.freeze=[backbone.layer1, backbone.conv1]"])
    model, _, transfer = build_from_config(config)
    frozen = freeze(model, config.train.freeze)
    assert not model.backbone.layer1[0].conv1.weight.requires_grad and model.backbone.layer2[0].conv1.weight.requires_grad
    optimizer = make_optimizer(config, model, set(transfer.loaded))
    rates = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    assert rates[id(model.lstm.weight_ih_l0)] == pytest.approx(0.1)
    assert rates[id(model.backbone.layer4[0].conv1.weight)] == pytest.approx(0.01)
    assert id(model.backbone.layer1[0].conv1.weight) not in rates
    before = model.backbone.layer1[0].bn1.running_mean.clone()
    model.train()
    for module in frozen:
        module.eval()
    loss = model(torch.randn(2, 3, 2, 32, 32))["logits"].sum()
    loss.backward()
    optimizer.step()
    assert torch.equal(model.backbone.layer1[0].bn1.running_mean, before)  # frozen batch norm too
    with pytest.raises(ValueError, match="no module 'backbone.layer9'.*top-level modules: backbone, lstm"):
        freeze(model, ["backbone.layer9"])
    with pytest.raises(ValueError, match="set model.pretrained"):
        load_config(None, ["optim.backbone_lr_mult=0.1"])


def test_a_pretrained_run_records_what_it_loaded(synthetic, tmp_path, imagenet_like):
    from dfer.engine.protocols import run

    path, _ = imagenet_like
    config = load_config(None, [
        "data.format=ferv39k", f"data.root={synthetic('ferv39k', clips=40)}", "data.size=[32, 32]",
        "data.sampler.options={k: 2}", "data.workers=0", *TINY_LSTM, f"model.pretrained={path}",
        "train.batch_size=8", "train.amp=false", "train.progress=false", "train.epochs=1", "train.max_steps_per_epoch=1",
        f"out={tmp_path}", "name=p"])
    metrics = run(config)
    record = json.loads((tmp_path / "p" / "pretrained.json").read_text())
    assert record["source"] == str(path) and record["loaded"] == 120 and record["skipped"] == 2
    assert record["loaded_tensors"]["backbone.conv1.weight"] == "conv1.weight"
    assert metrics["pretrained"] == {"source": str(path), "loaded": 120, "skipped": 2, "missing": record["missing"]}
