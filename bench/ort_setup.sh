# bench/ort_setup.sh: sourced by bench/ort_speed.sh and bench/float_speed.sh. Installs
# onnxruntime-node@1.20.1 from the npm registry into $ORT_DIR (default ~/.cache/sqc-ort) the
# first time, and exports ORT_DIR for bench/ort_speed.js: a bench setup step, never part of
# the build or tests.
export ORT_DIR=${ORT_DIR:-$HOME/.cache/sqc-ort}
if [ ! -d "$ORT_DIR/node_modules/onnxruntime-node" ]; then
	mkdir -p "$ORT_DIR"
	(cd "$ORT_DIR" && npm install --ignore-scripts onnxruntime-node@1.20.1 >/dev/null)
fi
