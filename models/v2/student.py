"""The fast student (issue 8, item 5), first recipe: shipped v2 distilled into a v1-sized network,
for catalogue-scale analysis. Measured, not shipped: this recipe's student is far below v1 on dev
(models/README.md, "Fast student"), so nothing is exported; `--model v1-cnn-int8` stays the fast
option. The second recipe, v1's own training with v2 as the teacher, is models/v2/student.sh.

Network: v1's SingerNet (1-D CNN, attentive statistics pooling, 192-d) with `CHANNELS` channels,
on v2's input (80-bin Kaldi fbank, 1.5-s windows of 150 frames, mean-normalised per window inside
the graph), so the engine's frontend, analysis window and voice head plumbing are v2's. About
9 M multiply-adds per window, against CAM++'s ~1 G.

Training data: pairs of 1.5-s windows drawn exactly as v2.adapt draws them (training identities
only, its `Sources`: clean vocal, and the same window augmented with v1's augmentation) but from
their own seed, with the features kept (raw fbank, float16) instead of CAM++'s middle. Target:
the shipped v2's embedding of the *clean* window (the teacher: `v2.adapt.SHIPPED`). Loss: cosine
distance to that target for the clean and the augmented input (distillation; the augmented term
is what teaches the student to ignore the accompaniment, as adaptation taught the teacher), plus
`AAM` x the additive-margin softmax over training identities. The inputs get SpecAugment (two
time and two frequency masks) and a random crop of 50-149 frames a quarter of the time (the
start of a stream). gtsinger-dev and dev-songs are never read for training; `evaluate` reads
dev only to report (and the shipped settings were fixed before it was first run).

Usage (from models/):
  .venv/bin/python -m v2.student prepare [--pairs N]   # features + teacher targets (cached)
  .venv/bin/python -m v2.student train                 # -> .cache/v2/student/student.pt
  .venv/bin/python -m v2.student evaluate              # dev proxy (torch): teacher vs student
Cost on the 2-core CPU (2 threads): prepare 52 min (sharing the CPU), train 11 min, evaluate 20 s.
"""
import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402
from v1.net import MarginClassifier, SingerNet  # noqa: E402
from v2 import adapt, fbank  # noqa: E402
from v2.export import WINDOW_FRAMES, load_encoder  # noqa: E402
from v2.voice_head import fit_peak  # noqa: E402

SEED = 23  # not v2.adapt's: other windows of the same identities
# Not .cache/v2/student: that is the training cache of the second recipe (v2/student.sh).
CACHE = common.MODELS_DIR / ".cache" / "v2" / "student-pairs"
CHANNELS = 96
MIN_CROP = 50  # the analyzer's shortest window (first hop of a stream)
CROP_PROB = 0.25
AAM = 0.2
STEPS, BATCH, LR = 6000, 64, 2e-3


class Student(nn.Module):
    """What the ONNX file contains: [batch, frames, 80] raw Kaldi fbank -> [batch, 192], unit length.
    Mean normalisation over time as v2's graph does (SingerNet also removes the overall mean)."""

    def __init__(self, channels: int = CHANNELS):
        super().__init__()
        self.net = SingerNet(n_mels=fbank.FRONTEND["n_mels"], channels=channels)

    def forward(self, fb: torch.Tensor) -> torch.Tensor:
        return self.net(fb - fb.mean(dim=1, keepdim=True))


def load_student(path: Path | None = None) -> Student:
    path = path or CACHE / "student.pt"
    state = torch.load(path, map_location="cpu", weights_only=True)
    s = Student(state["channels"])
    s.load_state_dict(state["model"])
    return s.eval()


# ---------------------------------------------------------------- data


@torch.no_grad()
def prepare(pairs: int, batch: int = 64):
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    src = adapt.Sources(rng)
    teacher_net = load_encoder(adapt.CACHE / f"{adapt.SHIPPED}.pt")
    feats = {"clean": np.zeros((pairs, WINDOW_FRAMES, 80), np.float16),
             "aug": np.zeros((pairs, WINDOW_FRAMES, 80), np.float16)}
    teacher = np.zeros((pairs, 192), np.float32)
    labels = np.zeros(pairs, np.int64)
    t0 = time.time()
    for start in range(0, pairs, batch):
        n = min(batch, pairs - start)
        clean = []
        for k in range(start, start + n):
            labels[k], w = src.vocal()
            c = fbank.fbank(fit_peak(w).astype(np.float32))
            a = fbank.fbank(src.augmented(w).astype(np.float32))
            feats["clean"][k], feats["aug"][k] = c.numpy(), a.numpy()
            clean.append(c)
        teacher[start:start + n] = F.normalize(teacher_net(torch.stack(clean)), dim=1).numpy()
        done = start + n
        if done % (batch * 20) == 0 or done == pairs:
            rate = done / (time.time() - t0)
            print(f"  pairs {done}/{pairs} ({rate:.1f}/s, {(pairs - done) / rate / 60:.1f} min left)", flush=True)
    for name, x in feats.items():
        np.save(CACHE / f"fbank_{name}.npy", x)
    np.save(CACHE / "teacher.npy", teacher)
    np.save(CACHE / "labels.npy", labels)
    # Written last: its presence means the cache is complete.
    (CACHE / "pairs.json").write_text(json.dumps({"seed": SEED, "pairs": pairs, "teacher": adapt.SHIPPED,
                                                  "classes": src.classes}, indent=1))
    print(f"pairs: {pairs} in {time.time() - t0:.0f} s")


# ---------------------------------------------------------------- training


def spec_augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Two time masks (up to 10 frames) and two frequency masks (up to 8 bins) per window,
    filled with the window's mean (what mean normalisation maps to zero)."""
    b, t, f = x.shape
    x = x.clone()
    fill = x.mean(dim=(1, 2), keepdim=True).expand_as(x)
    ar_t, ar_f = torch.arange(t)[None], torch.arange(f)[None]
    mask = torch.zeros(b, t, f, dtype=torch.bool)
    for _ in range(2):
        w = torch.randint(0, 11, (b, 1), generator=g)
        s = (torch.rand(b, 1, generator=g) * (t - w)).long()
        mask |= ((ar_t >= s) & (ar_t < s + w))[:, :, None]
        w = torch.randint(0, 9, (b, 1), generator=g)
        s = (torch.rand(b, 1, generator=g) * (f - w)).long()
        mask |= ((ar_f >= s) & (ar_f < s + w))[:, None, :]
    return torch.where(mask, fill, x)


def train(threads: int):
    torch.manual_seed(SEED)
    meta = json.loads((CACHE / "pairs.json").read_text())
    clean = torch.from_numpy(np.load(CACHE / "fbank_clean.npy"))
    aug = torch.from_numpy(np.load(CACHE / "fbank_aug.npy"))
    teacher = F.normalize(torch.from_numpy(np.load(CACHE / "teacher.npy")), dim=1)
    labels = torch.from_numpy(np.load(CACHE / "labels.npy"))
    n = len(labels)
    student = Student()
    classifier = MarginClassifier(192, len(meta["classes"]), adapt.SCALE)
    with torch.no_grad():  # class weights start at the teacher's centroids
        cent = torch.zeros(len(meta["classes"]), 192).index_add_(0, labels, teacher)
        classifier.weight.copy_(F.normalize(cent + 1e-6 * torch.randn_like(cent), dim=1))
    opt = torch.optim.AdamW([{"params": student.parameters(), "lr": LR, "weight_decay": 1e-4},
                             {"params": classifier.parameters(), "lr": 1e-2, "weight_decay": 0.0}])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[LR, 1e-2], total_steps=STEPS, pct_start=0.05)
    g = torch.Generator().manual_seed(SEED)
    params = sum(p.numel() for p in student.parameters())
    print(f"student: {CHANNELS} channels, {params} weights; {STEPS} steps of {BATCH} pairs "
          f"({STEPS * BATCH / n:.1f} epochs of {n}), lr {LR}, aam {AAM}", flush=True)
    t0, log = time.time(), defaultdict(float)
    student.train()
    for step in range(STEPS):
        idx = torch.randint(0, n, (BATCH,), generator=g)
        x = torch.cat([clean[idx], aug[idx]]).float()
        x = spec_augment(x, g)
        if torch.rand(1, generator=g).item() < CROP_PROB:  # one crop length per batch
            frames = int(torch.randint(MIN_CROP, WINDOW_FRAMES, (1,), generator=g))
            s = int(torch.randint(0, WINDOW_FRAMES - frames + 1, (1,), generator=g))
            x = x[:, s:s + frames]
        e = student(x)
        t = teacher[idx].repeat(2, 1)
        distill = (1 - F.cosine_similarity(e, t)).mean()
        margin_loss, acc = classifier(e, labels[idx].repeat(2), adapt.MARGIN)
        loss = distill + AAM * margin_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        log["distill"] += distill.item()
        log["aam"] += margin_loss.item()
        log["acc"] += acc.item()
        log["n"] += 1
        if (step + 1) % 250 == 0 or step + 1 == STEPS:
            k = log.pop("n")
            print(f"  step {step + 1}/{STEPS} " + " ".join(f"{key} {v / k:.4f}" for key, v in log.items())
                  + f" ({time.time() - t0:.0f} s)", flush=True)
            log = defaultdict(float)
    out = CACHE / "student.pt"
    partial = out.with_suffix(".pt.partial")  # renamed when complete: scripts reuse student.pt
    torch.save({"channels": CHANNELS, "model": student.state_dict()}, partial)
    partial.replace(out)
    (CACHE / "student.json").write_text(json.dumps(
        {"channels": CHANNELS, "weights": params, "steps": STEPS, "batch": BATCH, "lr": LR, "aam": AAM,
         "pairs": n, "seed": SEED, "teacher": adapt.SHIPPED, "train_s": round(time.time() - t0),
         "threads": threads}, indent=1))
    print(f"wrote {out} ({time.time() - t0:.0f} s)")


# ---------------------------------------------------------------- dev proxy


@torch.no_grad()
def evaluate():
    """Top-1 / EER on the dev manifests (torch, centroid enrolment, no voice gate), the teacher's
    rows from v2.adapt's cached dev units, the student's from the same clips' fbank."""
    import csv
    student = load_student()
    units = []
    for man in adapt.DEV_MANIFESTS:
        with open(common.DATA_DIR / f"{man}.csv", newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                y = common.load_audio_16k(common.DATA_DIR / r["path"])
                f_all = fbank.fbank(y)
                whole = [f_all[a:b] for a, b in adapt.pieces(f_all.shape[0])]
                units.append({"manifest": man, "singer": r["singer"], "role": r["role"], "kind": "whole",
                              "mids": whole})
                if r["role"] == "test":
                    for i in range(len(y) // 16000):
                        units.append({"manifest": man, "singer": r["singer"], "role": "test", "kind": "1s",
                                      "mids": [fbank.fbank(y[i * 16000:(i + 1) * 16000])]})
    res = adapt.dev_table(student, units)
    teacher_units = torch.load(adapt.CACHE / "dev_units.pt", weights_only=True)
    _, upper = adapt.split_network(load_encoder(adapt.CACHE / f"{adapt.SHIPPED}.pt"))
    ref = adapt.dev_table(upper, teacher_units)
    print(adapt.table_header("model"))
    print(adapt.table_row(f"teacher ({adapt.SHIPPED})", ref))
    print(adapt.table_row("student", res), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="training features and teacher targets (cached)")
    p.add_argument("--pairs", type=int, default=24000)
    sub.add_parser("train", help="distil the student")
    sub.add_parser("evaluate", help="dev proxy table, teacher and student")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.cmd == "prepare":
        prepare(args.pairs)
    elif args.cmd == "train":
        train(args.threads)
    else:
        evaluate()


if __name__ == "__main__":
    main()
