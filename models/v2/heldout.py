"""The training identities kept out of v2's adaptation, and the calibration manifest built
from them (models/calibration_v2.csv, eval-protocol format).

The unknown-singer threshold must hold for singers the model never learned, so it is
calibrated on identities no v2 variant is trained on: the melodic singers of NUS-48E,
OpenSinger, Vocadito and the Children's Song Dataset in `more/` (29 identities; 16 kHz and
44.1 kHz sources, like the users' mix of material). Identities with two or more songs are
enrolled from their first song and tested on the others; single-song identities are impostors.
The dev set (gtsinger-dev) is never used. Deterministic: sorted rows.
Usage (from models/): .venv/bin/python -m v2.heldout
"""
import csv
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402

HELDOUT_PREFIXES = ("nus48e-", "opensinger-", "vocadito-", "csd-")
OUT = common.MODELS_DIR / "calibration_v2.csv"


def is_heldout(identity: str) -> bool:
    return identity.startswith(HELDOUT_PREFIXES)


def main():
    songs = defaultdict(lambda: defaultdict(list))
    with open(common.DATA_DIR / "manifest.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if is_heldout(row["identity"]) and row["domain"] == "sung":
                songs[row["identity"]][row["group"]].append(row["path"])
    rel = Path("..") / ".." / "shared" / "data"
    rows = []
    for identity in sorted(songs):
        groups = sorted(songs[identity])
        for i, group in enumerate(groups):
            role = "enroll" if i == 0 and len(groups) > 1 else "test"
            # Songs are shared between singers (NUS-48E): the protocol's group is the singer's song.
            rows += [((rel / p).as_posix(), identity, f"{identity}/{group}", role) for p in sorted(songs[identity][group])]
    with open(OUT, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["path", "singer", "group", "role"])
        w.writerows(rows)
    enrolled = sum(1 for s in songs.values() if len(s) > 1)
    print(f"wrote {OUT.name}: {len(rows)} rows, {enrolled} enrolled singers, {len(songs) - enrolled} impostors")


if __name__ == "__main__":
    main()
