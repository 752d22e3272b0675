#!/usr/bin/env bash
# Builds the crew sandbox image from Debian packages only (no registry) and
# imports it into the engine on SOCKET; skipped when TAG is already there.
#   scripts/sandbox-image.sh [--engine docker|podman] [--force] SOCKET [TAG]
# SOCKET is a Unix socket path (or unix://PATH); TAG defaults to
# crewship-sandbox:latest. Without --engine, Podman is told by its /version.
#
# The root fs: busybox-static with every applet as a symlink, but sh is dash
# (busybox's sh runs its own applets before PATH, so its find would shadow
# GNU find); GNU find and xargs; git (its binary, git-core helpers and the
# libraries they need); users root and agent (1001:1001, home /home/agent);
# /tmp (1777), /output, /run/crewship and /usr/local/bin (where the daemon
# mounts its hook). No CMD or ENTRYPOINT: the daemon sets its own.
# The rootfs tarball is cached in $CREWSHIP_IMAGE_CACHE (default
# ${XDG_CACHE_HOME:-~/.cache}/crewship), keyed by the package versions and
# this script, so a rebuild only imports it.
set -euo pipefail

engine="" force=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --engine) engine="$2"; shift 2 ;;
    --force) force=1; shift ;;
    -*) echo "usage: $0 [--engine docker|podman] [--force] SOCKET [TAG]" >&2; exit 2 ;;
    *) break ;;
  esac
done
[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: $0 [--engine docker|podman] [--force] SOCKET [TAG]" >&2; exit 2; }
socket="${1#unix://}"
tag="${2:-crewship-sandbox:latest}"
cache="${CREWSHIP_IMAGE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/crewship}"

if [[ -z "$engine" ]]; then
  engine=docker
  if curl -sf --max-time 5 --unix-socket "$socket" http://engine/version 2>/dev/null | grep -q '"Podman'; then
    engine=podman
  fi
fi
# Podman's own client when present; Docker's client speaks to Podman's
# compatible API too.
case "$engine" in
  docker) cli=(docker -H "unix://$socket") ;;
  podman) if command -v podman >/dev/null; then cli=(podman --url "unix://$socket")
          else cli=(docker -H "unix://$socket"); fi ;;
  *) echo "unknown engine: $engine" >&2; exit 2 ;;
esac

if [[ $force -eq 0 ]] && "${cli[@]}" image inspect "$tag" >/dev/null 2>&1; then
  echo "sandbox image $tag already in $engine on $socket" >&2
  exit 0
fi

start=$(date +%s%N)
# Libraries first: libc6 wants libgcc-s1, findutils libselinux1 and pcre2,
# git pcre2 and zlib (its network helpers, which need more, are left out).
packages=(libc6 libgcc-s1 libpcre2-8-0 libselinux1 zlib1g busybox-static dash findutils git)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The cache key: the exact .deb files apt would fetch, and this script.
# Package lists that are missing or too old for the mirror are refreshed.
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
resolve() {
  list=$(cd "$work" && apt-get download --print-uris "${packages[@]}" 2>/dev/null) || list=""
  key=$( { echo "$list" | awk '{print $2, $4}'; cat "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
  tarball="$cache/sandbox-rootfs-$key.tar"
}
fetch() {
  [[ -n "$list" ]] && (cd "$work/debs" && apt-get download -q "${packages[@]}") >"$work/apt.log" 2>&1
}
resolve
if [[ ! -f "$tarball" ]]; then
  echo "building sandbox rootfs from: ${packages[*]}" >&2
  mkdir -p "$work/debs" "$cache"
  if ! fetch; then
    "${sudo[@]}" apt-get update -qq
    resolve
    if ! fetch; then
      echo "cannot download ${packages[*]}" >&2
      cat "$work/apt.log" >&2 2>/dev/null || true
      exit 1
    fi
  fi
  umask 022
  root="$work/root"
  mkdir -p "$root"
  for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done

  # Merged /usr, as on Debian: bin, sbin, lib and lib64 link into usr/.
  for d in bin sbin lib lib64; do
    if [[ -d "$root/$d" && ! -L "$root/$d" ]]; then
      mkdir -p "$root/usr/$d"
      cp -a "$root/$d/." "$root/usr/$d/"
      rm -rf "${root:?}/$d"
    fi
    ln -s "usr/$d" "$root/$d"
  done

  # Trim what a crew never runs: docs, translations, completions, Perl and
  # web bits, iconv modules, and git's ELF helpers other than git itself
  # (network, daemon, shell) - its builtins are links to the one binary.
  rm -rf "$root"/usr/share/{doc,doc-base,man,info,locale,lintian,bash-completion,perl5,gitweb,initramfs-tools} \
    "$root"/etc/bash_completion.d "$root"/usr/lib/*/gconv "$root"/usr/bin/scalar
  for f in "$root"/usr/lib/git-core/* "$root"/usr/bin/git-*; do
    [[ -f "$f" && ! -L "$f" && "${f##*/}" != git ]] || continue
    [[ "${f##*/}" == git-sh-i18n--envsubst ]] && continue
    if head -c 4 "$f" | grep -q ELF; then rm -f "$f"; fi
  done
  # git-core/git is a copy of /usr/bin/git: link it instead; drop the links
  # to removed helpers (git-remote-https and the like).
  ln -sf ../../bin/git "$root/usr/lib/git-core/git"
  find "$root/usr/lib/git-core" "$root/usr/bin" -xtype l -name 'git*' -delete

  # busybox applets as symlinks, where no real tool (dash as sh, GNU find,
  # xargs) is.
  ln -sf dash "$root/usr/bin/sh"
  while read -r applet; do
    [[ -e "$root/$applet" || -L "$root/$applet" ]] && continue
    mkdir -p "$(dirname "$root/$applet")"
    ln -s /usr/bin/busybox "$root/$applet"
  done < <("$root/usr/bin/busybox" --list-full | sed 's,^bin/,usr/bin/,; s,^sbin/,usr/sbin/,')

  # Every dynamic ELF (all but busybox) must find its libraries in the root fs.
  ldso=("$root"/usr/lib/*/ld-linux*.so.*)
  libdirs="$(dirname "${ldso[0]}"):$root/usr/lib"
  while read -r elf; do
    if ! out=$("${ldso[0]}" --library-path "$libdirs" --list "$elf" 2>&1) || grep -q 'not found' <<<"$out"; then
      echo "sandbox rootfs: $elf misses libraries:" >&2; echo "$out" >&2; exit 1
    fi
  done < <(find "$root/usr/bin" "$root/usr/lib/git-core" -type f -perm -u+x ! -name busybox \
             -exec sh -c 'head -c 4 "$1" | grep -q ELF' _ {} \; -print)
  "${ldso[0]}" --library-path "$libdirs" "$root/usr/bin/git" --version >/dev/null

  # Users, directories and their owners.
  mkdir -p "$root"/{etc,home/agent,tmp,output,run/crewship,usr/local/bin,proc,sys,dev,root}
  cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
agent:x:1001:1001:agent:/home/agent:/bin/sh
EOF
  cat >"$root/etc/group" <<'EOF'
root:x:0:
agent:x:1001:
EOF
  printf 'passwd: files\ngroup: files\nhosts: files\n' >"$root/etc/nsswitch.conf"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  # One tar without root rights: all root-owned, then /home/agent as 1001.
  tar -C "$root" -cf "$work/rootfs.tar" --sort=name --numeric-owner --owner=0 --group=0 \
    --exclude=./home/agent .
  tar -C "$root" -rf "$work/rootfs.tar" --numeric-owner --owner=1001 --group=1001 ./home/agent
  rm -f "$cache"/sandbox-rootfs-*.tar
  mv "$work/rootfs.tar" "$tarball"
fi

# A forced rebuild drops the image it replaces, unless a container holds it.
old=$("${cli[@]}" image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
"${cli[@]}" import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "$tarball" "$tag" >/dev/null
new=$("${cli[@]}" image inspect --format '{{.Id}}' "$tag")
if [[ -n "$old" && "$old" != "$new" ]]; then
  "${cli[@]}" image rm "$old" >/dev/null 2>&1 || true
fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "sandbox image $tag in $engine on $socket" \
  "($(( $(stat -c %s "$tarball") / 1048576 )) MB rootfs, $ms ms)" >&2
