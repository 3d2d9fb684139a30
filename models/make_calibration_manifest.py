"""Writes models/calibration.csv: a manifest in the eval-protocol format built from the UTAU
training singers only, used to pick a model's default unknown-singer threshold
(`singer-id calibrate models/calibration.csv`). The dev set (gtsinger-dev) is never used for it,
so the dev numbers in the model card are measured at a threshold fixed beforehand.

Singers whose recordings span several sets (pitches or techniques) are enrolled from one set and
tested on the others; singers with a single set are impostors (test only).
Deterministic: sorted files, every k-th clip.
"""

import csv
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"
CLIPS_PER_ROLE = 8


def spread(items, n):
    """n items evenly spread over the list."""
    if len(items) <= n:
        return items
    return [items[i * len(items) // n] for i in range(n)]


def main():
    groups = defaultdict(lambda: defaultdict(list))
    with open(DATA / "manifest.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["dataset"] == "utau":
                groups[row["identity"]][row["group"]].append(row["path"])
    rows = []
    rel = Path("..") / ".." / "shared" / "data"
    for identity in sorted(groups):
        sets = sorted(groups[identity])
        if len(sets) > 1:
            enrol_set, test_sets = sets[0], sets[1:]
            rows += [(p, identity, enrol_set, "enroll") for p in spread(sorted(groups[identity][enrol_set]), CLIPS_PER_ROLE)]
        else:
            test_sets = sets
        test = [(p, s) for s in test_sets for p in sorted(groups[identity][s])]
        rows += [(p, identity, s, "test") for p, s in spread(test, CLIPS_PER_ROLE)]
    out = HERE / "calibration.csv"
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "singer", "group", "role"])
        for path, singer, group, role in rows:
            w.writerow([(rel / path).as_posix(), singer, group, role])
    print(f"wrote {out}: {len(rows)} rows")


if __name__ == "__main__":
    main()
