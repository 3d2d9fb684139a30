"""Calibrates a model's song-mode turn threshold and writes it into its metadata.

    python -m v2.set_turn_threshold MODEL_JSON SINGER_ID_BINARY [SONGS_CSV]

Runs `singer-id --model MODEL_JSON calibrate-songs SONGS_CSV --json` on the songs of singers
held out of every model's training (default `.cache/v2/heldout-songs/songs.csv`, built by
`v2.heldout_songs` from calibration_v2.csv; the dev songs are never used) and stores the turn
threshold with the best timeline_acc (mean of a cappella and mixed) as `turn_threshold`. The
ONNX checksum is unaffected: only the JSON changes.
"""
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402

DEFAULT_SONGS = common.MODELS_DIR / ".cache" / "v2" / "heldout-songs" / "songs.csv"


def main():
    meta_path, binary = Path(sys.argv[1]).resolve(), sys.argv[2]
    songs = Path(sys.argv[3]).resolve() if len(sys.argv) > 3 else DEFAULT_SONGS
    cmd = [binary, "--quiet", "--model", str(meta_path), "calibrate-songs", str(songs), "--json"]
    result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    meta = json.loads(meta_path.read_text())
    out = {}
    for key, value in meta.items():
        if key != "turn_threshold":
            out[key] = value
        if key == "default_threshold":
            out["turn_threshold"] = round(result["turn_threshold"], 4)
    meta_path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(
        f"{meta_path.name}: turn_threshold {out['turn_threshold']} "
        f"(mean timeline_acc {result['mean_timeline_acc']:.3f} on {songs.parent.name})"
    )


if __name__ == "__main__":
    main()
