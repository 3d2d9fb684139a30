#!/usr/bin/env bash
# GMM-UBM baseline, end to end: venv, UBM, threshold calibrated on training singers, the four
# protocol conditions on the dev set. Deterministic; one thread. Prints the four metric JSONs.
#   models/baselines/run.sh
# Needs python3.11 (or PYTHON=...), PyPI (first run), the shared data beside the checkout
# (../shared/data, or SINGER_ID_DATA=...), and cargo if target/release/singer-id is missing.
set -euo pipefail
start=$(date +%s)
cd "$(dirname "$0")"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1 PYTHONHASHSEED=0
data=${SINGER_ID_DATA:-../../../shared/data}
[[ -f $data/manifest.csv ]] || { echo "run.sh: no shared data at $data (set SINGER_ID_DATA)" >&2; exit 1; }
export SINGER_ID_DATA=$(cd "$data" && pwd)
bin=../../target/release/singer-id
[[ -x $bin ]] || (cd ../.. && cargo build --release --bin singer-id)

./setup_venv.sh
py=.venv/bin/python
$py gmm_ubm.py train

out=.cache/scores
mkdir -p $out
# Threshold: EER threshold on 1-s units of the training-singer calibration manifest.
$py gmm_ubm.py score ../calibration.csv --segment 1 -o $out/calibration-1s.csv
cal=$($bin metrics $out/calibration-1s.csv)
threshold=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["threshold"])' "$cal")
echo "calibration (models/calibration.csv, 1-s units): $cal"

for d in dev_mono dev_mono2mix; do
    for seg in whole 1s; do
        args=(); [[ $seg == 1s ]] && args=(--segment 1)
        $py gmm_ubm.py score "$SINGER_ID_DATA/$d.csv" "${args[@]}" -o $out/$d-$seg.csv
        m=$($bin metrics $out/$d-$seg.csv --threshold="$threshold")
        echo "$d $seg: $m"
    done
done
echo "wall time: $(( $(date +%s) - start )) s"
