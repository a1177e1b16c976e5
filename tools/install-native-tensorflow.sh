#!/usr/bin/env bash
# Installs @tensorflow/tfjs-node (the native TensorFlow backend) without storage.googleapis.com.
#
#   tools/install-native-tensorflow.sh [--force] [PROJECT_DIR]
#
# tfjs-node's own installer downloads libtensorflow 2.9.1 and a prebuilt addon (tfjs_binding.node)
# from storage.googleapis.com; where that host is unreachable, npm silently drops the optional
# dependency and the notebooks run on WebAssembly. This script needs only the npm registry and PyPI:
#
#   1. downloads PyPI's tensorflow-cpu wheel (Linux x86_64; 2.12 is the first release whose wheel has
#      the C API in libtensorflow_cc.so.2 rather than inside the Python extension) and repacks its
#      shared libraries and C API headers as a libtensorflow-style tarball (lib/, include/);
#   2. serves that tarball from a throw-away HTTP server on 127.0.0.1 (stopped on exit) and points
#      tfjs-node's installer at it (TFJS_NODE_BASE_URI); the prebuilt-addon download is pointed at the
#      same server, which answers 404, so node-pre-gyp builds the addon from source with node-gyp
#      against the local Node.js headers (no nodejs.org download);
#   3. runs `npm install --no-save` in the project, which installs the locked @tensorflow/tfjs-node
#      (package.json and package-lock.json are not changed), and checks that it loads.
#
# Idempotent: does nothing when tfjs-node already loads (--force reinstalls it); the wheel and the
# tarball are cached in $NATIVE_TF_CACHE (default ~/.cache/makemore-native-tensorflow).
# `npm ci` (also run by `npm run setup` when package-lock.json changes) removes tfjs-node again:
# run this script once more afterwards; with the cache it takes about a minute.
#
# Needs: Linux x86_64, node + npm, python3 with pip, g++ and make, the Node.js headers
# (<node prefix>/include/node, as Node's official builds and NodeSource's nodejs package have them).
# Environment: NATIVE_TF_VERSION (tensorflow-cpu version, default 2.12.1), NATIVE_TF_CACHE, PYTHON.
set -euo pipefail

say() { printf '[native-tf] %s\n' "$*"; }
die() { printf '[native-tf] error: %s\n' "$*" >&2; exit 1; }

FORCE=0
PROJECT=""
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $arg (try --help)" ;;
    *) [ -z "$PROJECT" ] || die "one project folder only"; PROJECT="$arg" ;;
  esac
done
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT="$(cd "${PROJECT:-$SCRIPT_DIR/..}" && pwd)"
cd "$PROJECT"

# tensorflow-cpu from PyPI. The wheel's SHA-256 is checked for the default version; any 2.12 or later
# release with a cp311 manylinux2014 wheel should work (set NATIVE_TF_VERSION; then no hash check).
TF_VERSION="${NATIVE_TF_VERSION:-2.12.1}"
declare -A WHEEL_SHA256=(
  [2.12.0]=e8c7047552a2d759f3e65ac13e36dd24bb5fec2e6576e848287811ec44b3d62f
  [2.12.1]=7ffb595707a8fb376deaddc768784c7a0242b16cbc6e06393b1733b2ce19f855
)
WHEEL_PY=311  # the wheel's Python tag only decides which file to fetch: Python is not used at run time
CACHE="${NATIVE_TF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/makemore-native-tensorflow}/tensorflow-cpu-$TF_VERSION"
PYTHON="${PYTHON:-python3}"

# --- checks -------------------------------------------------------------------------------------------
[ -f package.json ] && [ -f package-lock.json ] || die "$PROJECT has no package.json and package-lock.json: give the project folder."
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "only Linux x86_64 is supported (PyPI's tensorflow-cpu wheel is used); this is $(uname -s)-$(uname -m)."
command -v node >/dev/null || die "node is not on PATH."
command -v npm >/dev/null || die "npm is not on PATH."
TFJS_NODE_VERSION="$(node -p "(require('./package-lock.json').packages['node_modules/@tensorflow/tfjs-node'] || {}).version || ''")"
[ -n "$TFJS_NODE_VERSION" ] || die "package-lock.json does not list @tensorflow/tfjs-node: nothing to install."
[ -d node_modules/@tensorflow/tfjs ] || die "the project's npm packages are not installed: run \`npm run setup\` (or \`npm ci\`) first, then this again."

# Loads tfjs-node in the project; prints "libtensorflow <version>" on success.
check_loads() {
  TF_CPP_MIN_LOG_LEVEL=2 node -e "
    const tf = require('@tensorflow/tfjs-node');
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const s = tf.matMul(x, x).sum().dataSync()[0];
    if (tf.getBackend() !== 'tensorflow' || s !== 54) throw new Error('backend ' + tf.getBackend() + ', sum ' + s);
    console.log('libtensorflow ' + tf.backend().binding.TF_Version);" 2>&1
}

if [ "$FORCE" = 0 ] && out="$(check_loads)"; then
  say "@tensorflow/tfjs-node is already installed and loads ($out): nothing to do (--force reinstalls it)."
  exit 0
fi

"$PYTHON" -m pip --version >/dev/null 2>&1 || die "$PYTHON -m pip does not work: install pip (Debian: apt-get install python3-pip) or set PYTHON=/path/to/python3."
command -v make >/dev/null || die "make is missing (Debian: apt-get install make g++)."
command -v g++ >/dev/null || command -v c++ >/dev/null || die "a C++ compiler is missing (Debian: apt-get install g++)."

# node-gyp needs the Node.js headers; it would download them from nodejs.org unless nodedir is set.
NODEDIR="${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}"
case "$NODEDIR" in undefined|null) NODEDIR="" ;; esac
if [ -z "$NODEDIR" ] || [ ! -f "$NODEDIR/include/node/node_api.h" ]; then
  NODEDIR="$(cd "$(dirname "$(node -p process.execPath)")/.." && pwd)"
fi
[ -f "$NODEDIR/include/node/node_api.h" ] && [ -f "$NODEDIR/include/node/common.gypi" ] ||
  die "the Node.js headers are not in $NODEDIR/include/node (node-gyp would fetch them from nodejs.org).
  Install a Node.js that ships them (official tarball, NodeSource's nodejs package), or unpack
  node-$(node -v)-headers.tar.gz somewhere and set npm_config_nodedir to that folder."
export npm_config_nodedir="$NODEDIR"

# --- 1. the wheel and the tarball ---------------------------------------------------------------------
TARBALL_NAME="libtensorflow-cpu-linux-x86_64-2.9.1.tar.gz"  # the name tfjs-node's installer asks for
TARBALL="$CACHE/serve/$TARBALL_NAME"
mkdir -p "$CACHE/wheel" "$CACHE/serve"

WHEEL="$(ls "$CACHE"/wheel/tensorflow_cpu-"$TF_VERSION"-cp$WHEEL_PY-*.whl 2>/dev/null | head -n1 || true)"
if [ -z "$WHEEL" ]; then
  say "downloading tensorflow-cpu==$TF_VERSION from PyPI (about 220 MB) ..."
  "$PYTHON" -m pip download --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version "${WHEEL_PY:0:1}.${WHEEL_PY:1}" --implementation cp --abi "cp$WHEEL_PY" \
    --platform manylinux2014_x86_64 -d "$CACHE/wheel" "tensorflow-cpu==$TF_VERSION" ||
    die "pip could not download tensorflow-cpu==$TF_VERSION (check PyPI access: PIP_INDEX_URL, HTTPS_PROXY)."
  WHEEL="$(ls "$CACHE"/wheel/tensorflow_cpu-"$TF_VERSION"-cp$WHEEL_PY-*.whl | head -n1)"
fi
EXPECTED="${WHEEL_SHA256[$TF_VERSION]:-}"
if [ -n "$EXPECTED" ]; then
  ACTUAL="$(sha256sum "$WHEEL" | cut -d' ' -f1)"
  if [ "$ACTUAL" != "$EXPECTED" ]; then
    rm -f "$WHEEL" "$TARBALL"
    die "$(basename "$WHEEL") has SHA-256 $ACTUAL, expected $EXPECTED: deleted it; run this again."
  fi
else
  say "no known SHA-256 for tensorflow-cpu $TF_VERSION: using the wheel pip downloaded without checking it."
fi

if [ ! -f "$TARBALL" ] || [ "$WHEEL" -nt "$TARBALL" ]; then
  say "repacking $(basename "$WHEEL") as $TARBALL_NAME (libtensorflow $TF_VERSION) ..."
  STAGE="$(mktemp -d "$CACHE/stage.XXXXXX")"
  "$PYTHON" - "$WHEEL" "$STAGE" <<'PY'
import os, shutil, sys, zipfile
wheel, stage = sys.argv[1:]
lib, inc = os.path.join(stage, 'lib'), os.path.join(stage, 'include')
os.makedirs(lib)
libs = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
# The C API headers the binding includes, and what they include.
inc_prefixes = ('tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/tsl/c/',
                'tensorflow/include/tensorflow/core/platform/ctstring', 'tensorflow/include/tensorflow/tsl/platform/ctstring')
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    missing = libs - names
    if missing:
        sys.exit('the wheel has no %s: it is older than TensorFlow 2.12 (C API inside the Python extension)' % ', '.join(sorted(missing)))
    for info in z.infolist():
        n = info.filename
        if n in libs:
            dest = os.path.join(lib, os.path.basename(n))
        elif n.startswith(inc_prefixes) and not n.endswith('/'):
            dest = os.path.join(inc, n[len('tensorflow/include/'):])
        elif n.endswith('.dist-info/LICENSE'):
            dest = os.path.join(stage, 'LICENSE')
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, 'wb') as out:
            shutil.copyfileobj(src, out)
        if n in libs:
            os.chmod(dest, 0o755)
# tfjs-node links -ltensorflow -ltensorflow_framework; its installer looks for *.so.2.9.1.
# libtensorflow_cc.so.2 (soname libtensorflow_cc.so.2) exports the whole C API (TF_*, TFE_*).
for name, target in [('libtensorflow.so.2', 'libtensorflow_cc.so.2'), ('libtensorflow.so', 'libtensorflow.so.2'),
                     ('libtensorflow.so.2.9.1', 'libtensorflow.so.2'),
                     ('libtensorflow_framework.so', 'libtensorflow_framework.so.2'),
                     ('libtensorflow_framework.so.2.9.1', 'libtensorflow_framework.so.2')]:
    os.symlink(target, os.path.join(lib, name))
PY
  if command -v nm >/dev/null; then  # binutils: a quick look at the exported C API
    nm -D --defined-only "$STAGE/lib/libtensorflow_cc.so.2" > "$STAGE/symbols.txt"
    for sym in TF_NewSession TF_Version TFE_NewContext TFE_Execute TFE_NewOp TFE_TensorHandleResolve; do
      grep -q " T $sym@" "$STAGE/symbols.txt" ||
        { rm -rf "$STAGE"; die "libtensorflow_cc.so.2 of tensorflow-cpu $TF_VERSION does not export $sym."; }
    done
    rm "$STAGE/symbols.txt"
  fi
  echo "$TF_VERSION (from $(basename "$WHEEL"))" > "$STAGE/VERSION"
  tar -C "$STAGE" -cf - LICENSE VERSION lib include | gzip -1 > "$TARBALL.tmp"
  mv "$TARBALL.tmp" "$TARBALL"
  rm -rf "$STAGE"
fi
say "libtensorflow tarball: $TARBALL ($(du -m "$TARBALL" | cut -f1) MB)"

# --- 2. the local HTTP server -------------------------------------------------------------------------
SERVER_LOG="$CACHE/server.log"
rm -f "$SERVER_LOG"
PORT_FILE="$(mktemp)"
node -e "
  const http = require('http'), fs = require('fs'), path = require('path');
  const [dir, file] = process.argv.slice(1);
  const server = http.createServer((req, res) => {
    const wanted = decodeURIComponent(req.url.split('?')[0]);
    fs.appendFileSync(path.join(dir, '..', 'server.log'), new Date().toISOString() + ' ' + req.method + ' ' + wanted + '\n');
    const f = path.join(dir, file);
    if (path.basename(wanted) !== file || !['GET', 'HEAD'].includes(req.method)) { res.writeHead(404); res.end('not here\n'); return; }
    res.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Length': fs.statSync(f).size });
    if (req.method === 'HEAD') res.end(); else fs.createReadStream(f).pipe(res);
  });
  server.listen(0, '127.0.0.1', () => fs.writeFileSync(process.argv[3], String(server.address().port)));
" "$CACHE/serve" "$TARBALL_NAME" "$PORT_FILE" &
SERVER_PID=$!
NPM_PID=""
cleanup() {
  [ -z "$NPM_PID" ] || kill "$NPM_PID" 2>/dev/null || true
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  rm -f "$PORT_FILE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for _ in $(seq 50); do [ -s "$PORT_FILE" ] && break; sleep 0.1; done
[ -s "$PORT_FILE" ] || die "the local HTTP server did not start."
PORT="$(cat "$PORT_FILE")"
BASE="http://127.0.0.1:$PORT"
say "serving it at $BASE/$TARBALL_NAME (pid $SERVER_PID, stopped when this script ends)"

# --- 3. npm install -----------------------------------------------------------------------------------
LOG="$CACHE/npm-install.log"
if [ -d node_modules/@tensorflow/tfjs-node ]; then
  # Present but not loading (or --force): npm would keep it as it is, so remove it first.
  say "removing the existing node_modules/@tensorflow/tfjs-node"
  rm -rf node_modules/@tensorflow/tfjs-node
fi
say "installing @tensorflow/tfjs-node@$TFJS_NODE_VERSION and building its addon (node-gyp, headers from $NODEDIR); log: $LOG"
T0=$SECONDS
# The tarball download of tfjs-node's installer would go through HTTP(S)_PROXY, which cannot reach
# 127.0.0.1: hand any proxy to npm as its own configuration and hide it from the install scripts.
PROXY_ENV=()
for v in HTTPS_PROXY https_proxy HTTP_PROXY http_proxy; do
  if [ -n "${!v:-}" ]; then PROXY_ENV+=(-u "$v"); fi
done
[ -z "${HTTPS_PROXY:-${https_proxy:-}}" ] || PROXY_ENV+=("npm_config_https_proxy=${npm_config_https_proxy:-${HTTPS_PROXY:-${https_proxy:-}}}")
[ -z "${HTTP_PROXY:-${http_proxy:-}}" ] || PROXY_ENV+=("npm_config_proxy=${npm_config_proxy:-${HTTP_PROXY:-${http_proxy:-}}}")
# (In the background, so that INT/TERM reach the trap at once; the trap stops npm and the server.)
env "${PROXY_ENV[@]}" \
  TFJS_NODE_BASE_URI="$BASE/libtensorflow-" \
  npm_config_tfjs_binding_binary_host_mirror="$BASE/no-prebuilt-addon/" \
  JOBS="${JOBS:-2}" \
  npm install --no-save --no-audit --no-fund --foreground-scripts >"$LOG" 2>&1 &
NPM_PID=$!
if ! wait "$NPM_PID"; then
  NPM_PID=""
  tail -n 30 "$LOG" >&2
  die "npm install failed (whole log: $LOG)."
fi
NPM_PID=""
say "npm install took $((SECONDS - T0)) s; tfjs-node's downloads: $(grep -c . "$SERVER_LOG" 2>/dev/null || echo 0) requests in $SERVER_LOG"

if ! out="$(check_loads)"; then
  grep -iE 'error|fail|not ok|gyp ERR' "$LOG" | tail -n 30 >&2 || true
  printf '%s\n' "$out" | tail -n 5 >&2
  die "@tensorflow/tfjs-node does not load after the install (npm drops an optional dependency whose install script fails; see $LOG)."
fi
say "done: @tensorflow/tfjs-node@$TFJS_NODE_VERSION loads ($out, from PyPI's tensorflow-cpu $TF_VERSION);"
say "the notebooks now pick the 'tensorflow' backend by default (training steps still run as the fused"
say "WebAssembly kernels; compare with \`npm run bench\`); MAKEMORE_BACKEND=wasm keeps WebAssembly, and"
say "TF_CPP_MIN_LOG_LEVEL=1 hides TensorFlow's start-up messages (oneDNN, CPU features) on stderr."
