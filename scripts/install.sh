#!/bin/sh
# Install a prebuilt evalgate: picks the archive for this OS and CPU from a
# GitHub release, checks its sha256, and copies the binary, its shell
# completions and man page under a prefix. No root needed.
#
#   curl -sSfL https://github.com/evalgate/evalgate/releases/latest/download/evalgate-installer.sh | sh
#
# Environment:
#   EVALGATE_VERSION      release to install, e.g. 0.1.0 (default: the latest)
#   EVALGATE_INSTALL_DIR  where the binary goes (default: $HOME/.local/bin)
#   EVALGATE_REPO         owner/name of the GitHub repository (default: evalgate/evalgate)
#   EVALGATE_DOWNLOAD_URL base URL holding the archives (default: the release's download URL)
set -eu

repo="${EVALGATE_REPO:-evalgate/evalgate}"
version="${EVALGATE_VERSION:-latest}"
bin_dir="${EVALGATE_INSTALL_DIR:-$HOME/.local/bin}"

fail() {
    echo "evalgate-installer: $*" >&2
    exit 1
}

case "$(uname -s)/$(uname -m)" in
    Linux/x86_64 | Linux/amd64) target=x86_64-unknown-linux-musl ;;
    Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
    Darwin/x86_64) target=x86_64-apple-darwin ;;
    Darwin/arm64) target=aarch64-apple-darwin ;;
    *) fail "no prebuilt binary for $(uname -s)/$(uname -m); build from source with: cargo install evalgate" ;;
esac

if [ -n "${EVALGATE_DOWNLOAD_URL:-}" ]; then
    base="$EVALGATE_DOWNLOAD_URL"
elif [ "$version" = latest ]; then
    base="https://github.com/$repo/releases/latest/download"
else
    base="https://github.com/$repo/releases/download/v${version#v}"
fi

if command -v curl >/dev/null 2>&1; then
    fetch() { curl -sSfL --retry 3 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
    fetch() { wget -q -O "$2" "$1"; }
else
    fail "needs curl or wget"
fi

if command -v sha256sum >/dev/null 2>&1; then
    sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
    sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
    fail "needs sha256sum or shasum to verify the download"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM

archive="evalgate-$target.tar.gz"
echo "downloading $base/$archive"
fetch "$base/$archive" "$tmp/$archive" || fail "cannot download $base/$archive"
fetch "$base/$archive.sha256" "$tmp/$archive.sha256" || fail "cannot download $base/$archive.sha256"

want="$(cut -d' ' -f1 <"$tmp/$archive.sha256")"
got="$(sha256 "$tmp/$archive")"
[ "$want" = "$got" ] || fail "checksum mismatch for $archive (expected $want, got $got); nothing was installed"

tar -xzf "$tmp/$archive" -C "$tmp"
src="$tmp/evalgate-$target"
[ -f "$src/evalgate" ] || fail "$archive holds no evalgate binary"

mkdir -p "$bin_dir"
cp "$src/evalgate" "$bin_dir/evalgate.new"
chmod 755 "$bin_dir/evalgate.new"
mv "$bin_dir/evalgate.new" "$bin_dir/evalgate"
echo "installed $("$bin_dir/evalgate" --version) to $bin_dir/evalgate"

share="$(dirname "$bin_dir")/share"
if [ -d "$src/man" ] && mkdir -p "$share/man/man1" 2>/dev/null; then
    cp "$src/man/evalgate.1" "$share/man/man1/"
fi
if [ -d "$src/completions" ] && mkdir -p "$share/bash-completion/completions" "$share/zsh/site-functions" "$share/fish/vendor_completions.d" 2>/dev/null; then
    cp "$src/completions/evalgate.bash" "$share/bash-completion/completions/evalgate"
    cp "$src/completions/_evalgate" "$share/zsh/site-functions/_evalgate"
    cp "$src/completions/evalgate.fish" "$share/fish/vendor_completions.d/evalgate.fish"
fi

case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) echo "note: $bin_dir is not on PATH; add it, e.g. export PATH=\"$bin_dir:\$PATH\"" ;;
esac
