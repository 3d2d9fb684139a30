"""Trains the v1 singer embedding on the cache built by v1.prepare.

Stage 1 (classification pre-training): normalised softmax over identities, margin 0.
Stage 2 (metric learning): the same cosine classifier with an additive margin (AM-softmax) ramped
to --margin, so same-singer embeddings cluster tightly and others are pushed apart.
Throughout, optionally (--distill > 0): distillation from the cache's teacher (model v0, or v2
for v2's fast student: `v1.prepare --teacher v2`), i.e. the embedding of an augmented crop
(mashup, noise, reverb, EQ), through a linear map, is pulled towards the teacher's embedding of
the *clean* vocal at the same place, keeping the teacher's knowledge of voices while learning to
ignore accompaniment.

Identities: 10 UTAU singers + 261 LibriSpeech speakers (spoken and WORLD-sung, same identity);
speed-warped copies (pitch and formants moved together by one of WARPS) are new pseudo-identities.
Deterministic for a given --seed and --threads.
Usage (from models/): .venv/bin/python -m v1.train --name v1b --steps 6000 [--distill 1.0] [--cache DIR]
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from v1 import augment, frontend  # noqa: E402
from v1.net import MarginClassifier, SingerNet  # noqa: E402
from v1.prepare import CACHE, TEACHER_WINDOW  # noqa: E402

WARPS = (1.0, 0.84, 0.92, 1.09, 1.19)  # index 0: the real voice
KIND_WEIGHTS = {"sung": 0.45, "speech-sung": 0.3, "speech": 0.25}
# Hikari One's terms forbid pitch/formant edits of its audio: never speed-warp it.
NO_WARP = {"hikari"}


class Batches:
    """Random training crops: kind by KIND_WEIGHTS, then identity uniformly, then clip."""

    def __init__(self, seed: int, warp_prob: float, cache: Path = CACHE):
        meta = json.loads((cache / "clips.json").read_text())
        self.audio = np.load(cache / "audio.npy", mmap_mode="r")
        self.teacher = torch.from_numpy(np.load(cache / "teacher.npy"))
        self.music = torch.from_numpy(np.load(cache / "music.npy"))
        self.synth = torch.from_numpy(np.load(cache / "synth.npy"))
        self.clips = meta["clips"]
        self.step = meta["teacher_step_frames"]
        # Caches from before the teacher could be chosen are v0's.
        self.teacher_window = meta.get("teacher_window_frames", TEACHER_WINDOW["v0"])
        self.n_identities = len(meta["identities"])
        self.no_warp = {meta["identities"].index(name) for name in NO_WARP}
        self.by_kind = {}
        for i, c in enumerate(self.clips):
            self.by_kind.setdefault(c["kind"], {}).setdefault(c["identity"], []).append(i)
        self.rng = np.random.default_rng(seed)
        self.warp_prob = warp_prob
        self.length = frontend.window_samples()

    @property
    def n_classes(self) -> int:
        return self.n_identities * len(WARPS)

    def crop(self, clip: dict, n: int) -> tuple[np.ndarray, int]:
        if clip["length"] >= n:
            start = int(self.rng.integers(0, clip["length"] - n + 1))
            return np.asarray(self.audio[clip["start"] + start:clip["start"] + start + n]), start
        y = np.asarray(self.audio[clip["start"]:clip["start"] + clip["length"]])
        return np.tile(y, n // len(y) + 1)[:n], 0

    def next(self, size: int):
        kinds = list(KIND_WEIGHTS)
        p = np.array([KIND_WEIGHTS[k] for k in kinds])
        waves, labels, targets, has_target = [], [], [], []
        for _ in range(size):
            by_ident = self.by_kind[kinds[self.rng.choice(len(kinds), p=p / p.sum())]]
            ident = list(by_ident)[self.rng.integers(len(by_ident))]
            clip = self.clips[by_ident[ident][self.rng.integers(len(by_ident[ident]))]]
            warp = int(self.rng.integers(1, len(WARPS))) if self.rng.random() < self.warp_prob else 0
            warp = 0 if ident in self.no_warp else warp
            n = int(round(self.length * WARPS[warp]))
            y, start = self.crop(clip, n)
            y = torch.from_numpy(y.astype(np.float32))[None]
            if warp:
                y = augment.speed_warp(y, self.length)
            waves.append(y[0])
            labels.append(ident + warp * self.n_identities)
            centre_frame = (start + n / 2) / frontend.FRONTEND["hop_length"]
            k = int(np.clip(round((centre_frame - self.teacher_window / 2) / self.step), 0, clip["teacher_count"] - 1))
            targets.append(self.teacher[clip["teacher_start"] + k])
            has_target.append(warp == 0)
        return torch.stack(waves), torch.tensor(labels), torch.stack(targets), torch.tensor(has_target)


def augment_batch(wave: torch.Tensor, data: Batches, logmel, g: torch.Generator) -> torch.Tensor:
    n, length = wave.shape
    u = lambda lo, hi: torch.empty(n).uniform_(lo, hi, generator=g)  # noqa: E731
    p = lambda prob: torch.rand(n, generator=g) < prob  # noqa: E731
    x = augment.reverb(wave, p(0.25), g)
    # Mashup: real music (the 4 training tracks) or synthetic accompaniment.
    acc = torch.where(p(0.4)[:, None], augment.random_crops(data.music, n, length, g),
                      augment.random_crops(data.synth, n, length, g))
    x = augment.mix_at(x, acc, u(-5.0, 20.0), p(0.6))
    noise = torch.where(p(0.5)[:, None], torch.randn(n, length, generator=g), augment.pink_noise(n, length, g))
    x = augment.mix_at(x, noise, u(5.0, 40.0), p(0.3))
    x = x * augment.db_to_gain(u(-25.0, 6.0))[:, None]
    mel = logmel(x, augment.spectral_gains(n, frontend.FRONTEND["n_fft"] // 2 + 1, 0.5, 0.15, g))
    return augment.spec_augment(mel, 0.5, g)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", required=True, help="run name: output in runs/NAME/ of the cache (.cache/v1 by default)")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--pretrain", type=float, default=0.4, help="fraction of steps without margin")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--margin", type=float, default=0.2)
    ap.add_argument("--distill", type=float, default=0.0, help="weight of the v0 distillation loss")
    ap.add_argument("--warp-prob", type=float, default=0.3)
    ap.add_argument("--channels", type=int, default=128)
    ap.add_argument("--embedding", type=int, default=192)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=CACHE, help=f"training cache from v1.prepare (default {CACHE})")
    args = ap.parse_args()
    cache = args.cache
    del args.cache  # not a training setting: the recipe in the metadata stays as it was

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    out = cache / "runs" / args.name
    out.mkdir(parents=True, exist_ok=True)
    data = Batches(args.seed, args.warp_prob, cache)
    g = torch.Generator().manual_seed(args.seed)
    logmel = frontend.LogMel()
    net = SingerNet(frontend.FRONTEND["n_mels"], args.channels, args.embedding)
    classifier = MarginClassifier(args.embedding, data.n_classes)
    # To the teacher's space (v0: 256-d, v2: 192-d), for distillation.
    project = torch.nn.Linear(args.embedding, data.teacher.shape[1], bias=False)
    params = list(net.parameters()) + list(classifier.parameters()) + list(project.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    warmup = 200
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / args.steps))))
    pre = int(args.pretrain * args.steps)
    print(f"[train] {args.name}: {data.n_classes} classes, {sum(p.numel() for p in net.parameters())} net params, "
          f"{json.dumps(vars(args))}", flush=True)

    t0 = time.time()
    log = {"loss": 0.0, "acc": 0.0, "distill": 0.0, "n": 0}
    for step in range(args.steps):
        margin = 0.0 if step < pre else args.margin * min(1.0, (step - pre) / max(1, (args.steps - pre) // 4))
        wave, labels, targets, has_target = data.next(args.batch)
        mel = augment_batch(wave, data, logmel, g)
        e = net(mel)
        loss, acc = classifier(e, labels, margin)
        total = loss
        if args.distill > 0 and has_target.any():
            cos = torch.nn.functional.cosine_similarity(project(e[has_target]), targets[has_target], dim=1)
            d = (1 - cos).mean()
            total = total + args.distill * d
            log["distill"] += d.item()
        opt.zero_grad()
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        sched.step()
        log["loss"] += loss.item()
        log["acc"] += acc.item()
        log["n"] += 1
        if (step + 1) % 100 == 0 or step + 1 == args.steps:
            n = log["n"]
            print(f"[train] step {step + 1}/{args.steps} loss {log['loss'] / n:.3f} acc {log['acc'] / n:.3f} "
                  f"distill {log['distill'] / n:.3f} margin {margin:.2f} lr {sched.get_last_lr()[0]:.2e} "
                  f"{time.time() - t0:.0f} s", flush=True)
            log = {"loss": 0.0, "acc": 0.0, "distill": 0.0, "n": 0}
        if (step + 1) % 1000 == 0 or step + 1 == args.steps:
            torch.save({"net": net.state_dict(), "args": vars(args), "step": step + 1,
                        "seconds": time.time() - t0}, out / "model.pt")
    print(f"[train] done in {time.time() - t0:.0f} s -> {out / 'model.pt'}", flush=True)


if __name__ == "__main__":
    main()
