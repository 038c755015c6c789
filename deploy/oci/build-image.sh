#!/bin/sh
# build-image.sh BINARY LAYOUT [TAG]
#
# Builds recal's container image as an OCI image layout (a directory) with
# Debian's umoci: no container engine, no network and no base image. The one
# layer holds the static binary (CGO_ENABLED=0), the CA certificates, an
# /etc/passwd and /etc/group naming the non-root user 65532 ("nonroot", as in
# distroless), and a world-writable /tmp; nothing else, no shell. The config:
# entrypoint /usr/local/bin/recal, user 65532:65532, TMPDIR=/tmp, stop signal
# SIGTERM. deploy/Dockerfile builds the equivalent image with an engine.
#
# Copy it to a registry or engine with skopeo, e.g.
#   skopeo copy oci:out/image:dev docker://registry.example/recal:dev
#
# Environment: UMOCI (default umoci), CA_CERTS (default Debian's bundle).
set -eu
if [ $# -lt 2 ]; then
	echo "usage: $0 BINARY LAYOUT [TAG]" >&2
	exit 64
fi
bin=$1
layout=$2
tag=${3:-dev}
umoci=${UMOCI:-umoci}
certs=${CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
# One timestamp for the image, the layer's files and the history, so that
# the same binary gives the same image: SOURCE_DATE_EPOCH, else 2026-01-01.
epoch=${SOURCE_DATE_EPOCH:-1767225600}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
rm -rf "$layout"
"$umoci" init --layout "$layout"
"$umoci" new --image "$layout:$tag"
"$umoci" unpack --rootless --image "$layout:$tag" "$work/bundle"
root=$work/bundle/rootfs
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp"
cp "$bin" "$root/usr/local/bin/recal"
chmod 0755 "$root/usr/local/bin/recal"
cp "$certs" "$root/etc/ssl/certs/ca-certificates.crt"
chmod 0644 "$root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$root/etc/group"
chmod 0644 "$root/etc/passwd" "$root/etc/group"
chmod 1777 "$root/tmp"
find "$root" -exec touch -h -d "@$epoch" {} +
"$umoci" repack --image "$layout:$tag" --history.created "$created" --history.created_by "deploy/oci/build-image.sh" "$work/bundle"
"$umoci" config --image "$layout:$tag" --created "$created" --history.created "$created" \
	--author "recal" --os linux --architecture "$(go env GOARCH 2>/dev/null || echo amd64)" \
	--config.entrypoint /usr/local/bin/recal --config.cmd --help \
	--config.user 65532:65532 --config.workingdir / \
	--config.env TMPDIR=/tmp --config.env PATH=/usr/local/bin \
	--config.stopsignal SIGTERM \
	--config.label org.opencontainers.image.title=recal \
	--config.label org.opencontainers.image.source=https://github.com/recal-project/recal
"$umoci" gc --layout "$layout"
echo "image: $layout:$tag (OCI layout)"
