# Making our programs visible inside the nodes without touching the host.
# Sourced by bed.sh.
#
# Pacemaker looks for OCF agents under /usr/lib/ocf/resource.d (compiled in)
# and for fence agents in /usr/sbin. In each node's private mount namespace
# those two directories get an overlayfs whose upper layer lives in
# $BED_DIR/nK/ovl; our files are bind-mounted onto empty files created in
# that layer. The host's directories are never written. A bind mount pins
# the inode it was given: after a rebuild, run bed_install_agents again.

: "${BED_BUILD:=$BED_TOP/build}"

# bed_install_agents: our agent, fence agent, vmm and havm on every node
# (those not built yet are skipped with a log line), plus whatever
# bed_install_file added. Nodes started later get them too.
bed_install_agents() {
	local src dest
	while read -r src dest; do
		if [[ -e $src ]]; then
			_bed_install_add "$src" "$dest"
		else
			bed_log "not installing $dest: $src is not built"
		fi
	done <<EOF
$BED_BUILD/ocf/havm/VirtualServer /usr/lib/ocf/resource.d/havm/VirtualServer
$BED_BUILD/bin/fence_havm /usr/sbin/fence_havm
$BED_BUILD/bin/vmm /usr/sbin/vmm
$BED_BUILD/bin/havm /usr/sbin/havm
EOF
	_bed_agents_installed=1
	local k
	for k in $(bed_nodes_up); do
		_bed_install_agents_node "$k" || return 1
	done
}

# bed_install_file SRC DEST: one more file (DEST under /usr/lib/ocf/resource.d
# or /usr/sbin) on every running node and on nodes started later.
bed_install_file() {
	local k
	_bed_install_add "$1" "$2"
	_bed_agents_installed=1
	for k in $(bed_nodes_up); do
		_bed_install_agents_node "$k" || return 1
	done
}

_bed_install_add() {
	case $2 in
	/usr/lib/ocf/resource.d/*/* | /usr/sbin/*) ;;
	*) bed_die "install target $2 is outside /usr/lib/ocf/resource.d and /usr/sbin"; return 1 ;;
	esac
	grep -qxF "$1 $2" "$BED_DIR/installs" 2>/dev/null || echo "$1 $2" >>"$BED_DIR/installs"
}

# Applies $BED_DIR/installs to node K (idempotent).
_bed_install_agents_node() {
	local k=$1 src dest
	[[ -f $BED_DIR/installs ]] || return 0
	_bed_overlay "$k" /usr/lib/ocf/resource.d ocf || return 1
	_bed_overlay "$k" /usr/sbin sbin || return 1
	while read -r src dest; do
		# shellcheck disable=SC2016
		bed_exec "$k" /bin/sh -c '
			grep -q " $2 " /proc/self/mountinfo && umount "$2"
			mkdir -p "$(dirname "$2")" && touch "$2" && mount --bind "$1" "$2"' \
			sh "$src" "$dest" || { bed_die "n$k: cannot bind $src on $dest"; return 1; }
	done <"$BED_DIR/installs"
}

# _bed_overlay K DIR TAG: a writable overlay over DIR in node K (once per
# mount namespace; the marker lives in the node's private /run).
_bed_overlay() {
	local k=$1 dir=$2 tag=$3 o=$BED_DIR/n$1/ovl/$3
	bed_exec "$k" test -e "/run/.bed-ovl-$tag" && return 0
	rm -rf "$o" && mkdir -p "$o/upper" "$o/work"
	bed_exec "$k" mount -t overlay overlay \
		-o "lowerdir=$dir,upperdir=$o/upper,workdir=$o/work" "$dir" ||
		{ bed_die "n$k: overlay on $dir failed"; return 1; }
	bed_exec "$k" touch "/run/.bed-ovl-$tag"
}
