#!/usr/bin/env bats
# tiny-rbm-train over Open MPI (chapter 4): K = 2 and 3 processes over TCP
# on loopback against one process, the byte counts of section 4.4.1, a
# checkpoint resumed with another K, a rank killed mid-epoch, --hosts over
# a real SSH server, and two hosts in two network namespaces.

load helpers/common

setup() {
	T="$BATS_TEST_TMPDIR"
	command -v mpirun >/dev/null || skip "mpirun is absent (Debian's openmpi-bin)"
	# root may run mpirun; 3 processes on 2 cores; TCP, not shared memory
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
	export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=tcp,self
}

teardown() {
	local f
	for f in "$T"/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
	done
	[ -n "${NS_A:-}" ] && ip netns del "$NS_A" 2>/dev/null || true
	[ -n "${NS_B:-}" ] && ip netns del "$NS_B" 2>/dev/null || true
}

# bin FILE N V: N records of random 0/1 x u8 [V]
bin() {
	/usr/bin/python3 "$TINY_ROOT/pipelines/random-binary.py" "$2" "$3" 7 >"$1"
}

# maxdiff A B: the largest difference between the parameters of two models
maxdiff() {
	npy_ok
	$PY -c "$LOAD
a, b = load('$1'), load('$2')
print('%.3g' % max(float(abs(a[f].astype('f8') - b[f]).max()) for f in ('W', 'vbias', 'hbias', 'sigma')))"
}

# close A B TOL: maxdiff below TOL, and the models not identical to a fresh one
close() {
	local d
	d=$(maxdiff "$1" "$2")
	echo "max difference $d" >&2
	awk -v d="$d" -v t="$3" 'BEGIN { exit !(d <= t) }'
}

# rank_pid PATTERN R: the process of rank R whose command line has PATTERN
rank_pid() {
	local p
	for p in /proc/[0-9]*; do
		grep -qa -- "$1" "$p/cmdline" 2>/dev/null || continue
		tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && echo "${p#/proc/}"
	done
}

# --- usage ------------------------------------------------------------------------

@test "an unknown --scheme, and --scheme 4.2 with --pcd, are usage errors and nothing is written" {
	bin "$T/d.tiny" 20 8
	run -2 --separate-stderr tiny-rbm-train --scheme 4.3 "$T/d.tiny"
	assert_output ""
	[[ "$stderr" == *"--scheme 4.3: expected one of 4.5, 4.2"* ]]
	run -2 --separate-stderr tiny-rbm-train --scheme 4.2 --pcd "$T/d.tiny"
	assert_output ""
	[[ "$stderr" == *"--scheme 4.2 is CD-1"* ]]
}

@test "--hosts with an empty host name is a usage error" {
	bin "$T/d.tiny" 20 8
	run -2 --separate-stderr tiny-rbm-train --hosts a,,b "$T/d.tiny"
	assert_output ""
	[[ "$stderr" == *"--hosts a,,b: expected host names"* ]]
}

@test "more processes than hidden units is one error from rank 0, and nothing is written" {
	bin "$T/d.tiny" 20 8
	run -1 --separate-stderr mpirun -np 3 tiny-rbm-train --hidden 2 "$T/d.tiny"
	assert_output ""
	[ "$(grep -c 'tiny-rbm-train: 3 processes for 8 visible and 2 hidden units' <<<"$stderr")" = 1 ]
}

# --- against one process ----------------------------------------------------------

@test "scheme 4.5 on 2 and 3 processes gives the single-process model within 1e-6 (binary visibles)" {
	bin "$T/d.tiny" 120 24
	tiny-rbm-train -q --visible binary --hidden 17 --batch 20 --epochs 3 --lr-w 0.05 "$T/d.tiny" >"$T/one.rbm"
	for K in 2 3; do
		mpirun -np $K tiny-rbm-train -q --visible binary --hidden 17 --batch 20 --epochs 3 --lr-w 0.05 \
			<"$T/d.tiny" >"$T/k$K.rbm"
		close "$T/one.rbm" "$T/k$K.rbm" 1e-6
	done
	# the run learnt something: the weights moved well beyond the tolerance
	tiny-rbm-train -q --visible binary --hidden 17 --batch 20 --epochs 0 "$T/d.tiny" >"$T/zero.rbm"
	! close "$T/one.rbm" "$T/zero.rbm" 1e-3
}

@test "scheme 4.5 with Gaussian visibles, learned sigmas, PCD and CD-2 agrees within 1e-5, each rank reading --data" {
	tiny-fetch -q synthetic --count 60 >"$T/d.tiny"
	set -- --hidden 7 --batch 15 --epochs 2 --learn-sigma --lr-w 0.01 --lr-sigma 1 --sigma data --pcd --cd 2
	tiny-rbm-train -q "$@" "$T/d.tiny" >"$T/one.rbm"
	mpirun -np 3 tiny-rbm-train -q "$@" --data "$T/d.tiny" >"$T/k3.rbm"
	close "$T/one.rbm" "$T/k3.rbm" 1e-5
	tiny-dump --fields sigma "$T/k3.rbm" | grep -qv 'sigma=\([^,]*\)\(,\1\)*$'   # the sigmas moved apart
}

@test "scheme 4.2 with binary visibles matches its single process bit for bit on 2 and 3 processes" {
	bin "$T/d.tiny" 120 24
	set -- --scheme 4.2 --visible binary --hidden 17 --batch 20 --epochs 3 --lr-w 0.05 --sync-every 1000000
	tiny-rbm-train -q "$@" "$T/d.tiny" >"$T/one.rbm"
	for K in 2 3; do
		mpirun -np $K tiny-rbm-train -q "$@" "$T/d.tiny" >"$T/k$K.rbm"
		cmp <(tiny-dump --fields W,vbias,hbias "$T/one.rbm") <(tiny-dump --fields W,vbias,hbias "$T/k$K.rbm")
	done
	tiny-rbm-train -q --visible binary --hidden 17 --epochs 0 "$T/d.tiny" >"$T/zero.rbm"
	! close "$T/one.rbm" "$T/zero.rbm" 1e-3
}

@test "scheme 4.2 with Gaussian visibles and weight synchronisation agrees with its single process within 1e-6" {
	tiny-fetch -q synthetic --count 60 >"$T/d.tiny"
	set -- --scheme 4.2 --hidden 9 --batch 15 --epochs 2 --sync-every 30 --lr-w 0.01
	tiny-rbm-train -q "$@" "$T/d.tiny" >"$T/one.rbm"
	run -0 --separate-stderr mpirun -np 3 tiny-rbm-train "$@" "$T/d.tiny"
	[[ "$stderr" != *"weight sync 0,"* ]]
	mpirun -np 3 tiny-rbm-train -q "$@" "$T/d.tiny" >"$T/k3.rbm"
	close "$T/one.rbm" "$T/k3.rbm" 1e-6
}

# --- bytes ------------------------------------------------------------------------

@test "scheme 4.2 sends (K-1)(2BH + BV)/8 bytes a minibatch, section 4.4.1's count" {
	bin "$T/d.tiny" 64 40
	for K in 2 4; do
		run -0 --separate-stderr mpirun -np $K tiny-rbm-train --scheme 4.2 --visible binary --hidden 24 --batch 16 \
			--epochs 1 --sync-every 32 "$T/d.tiny"
		# B 16, H 24, V 40: (K-1) (768 + 640) / 8 = (K-1) 176 bytes, 4 minibatches
		[[ "$stderr" == *"minibatches $(((K - 1) * 176 * 4)) ($(((K - 1) * 176)) a minibatch"* ]]
		# two weight synchronisations of W and its momenta: 2 (K-1)/K of 2 V H 4 bytes
		[[ "$stderr" == *"weight sync $((2 * 2 * 40 * 24 * 4 * (K - 1) / K)),"* ]]
	done
}

@test "--f64: scheme 4.5 on 2 processes agrees within 1e-12, and 4.2 sends Gaussian visibles in 8 bytes" {
	tiny-fetch -q synthetic --count 60 >"$T/d.tiny"
	set -- --hidden 7 --batch 15 --epochs 2 --learn-sigma --lr-w 0.01 --lr-sigma 1 --sigma data --f64
	tiny-rbm-train -q "$@" "$T/d.tiny" >"$T/one.rbm"
	mpirun -np 2 tiny-rbm-train -q "$@" --data "$T/d.tiny" >"$T/k2.rbm"
	close "$T/one.rbm" "$T/k2.rbm" 1e-12
	tiny-info --json "$T/k2.rbm" | grep -q '"name": "W", "dtype": "f64"'
	# B 16, H 24, V 40, K 2: hidden states as bits twice, visibles in f64
	bin "$T/b.tiny" 64 40
	run -0 --separate-stderr mpirun -np 2 tiny-rbm-train --scheme 4.2 --visible gaussian --sigma 1 --hidden 24 \
		--batch 16 --epochs 1 --f64 "$T/b.tiny"
	[[ "$stderr" == *"($((2 * 16 * 24 / 8 + 16 * 40 * 8)) a minibatch"* ]]
}

@test "--comm-only counts the same bytes as training" {
	bin "$T/d.tiny" 64 40
	set -- --visible binary --hidden 24 --batch 16 --epochs 1
	a=$(mpirun -np 3 tiny-rbm-train "$@" "$T/d.tiny" 2>&1 >/dev/null | grep -o 'minibatches [0-9]*')
	b=$(mpirun -np 3 tiny-rbm-train --comm-only "$@" "$T/d.tiny" 2>&1 >/dev/null | grep -o 'minibatches [0-9]*')
	[ -n "$a" ] && [ "$a" = "$b" ]
}

# --- checkpoints and faults -------------------------------------------------------

@test "a checkpoint of 3 processes resumes on 2 and ends where one uninterrupted process does" {
	bin "$T/d.tiny" 120 24
	set -- --visible binary --hidden 17 --batch 20 --epochs 3 --lr-w 0.05
	tiny-rbm-train -q "$@" "$T/d.tiny" >"$T/one.rbm"
	mpirun -np 3 tiny-rbm-train -q "$@" --checkpoint "$T/ck.rbm" --max-batches 8 "$T/d.tiny" >/dev/null
	[ "$(tiny-info "$T/ck.rbm" | grep -o 'train_batch [0-9]*')" = "train_batch 2" ]
	mpirun -np 2 tiny-rbm-train -q "$@" --init "$T/ck.rbm" --log "$T/log.tiny" "$T/d.tiny" >"$T/resumed.rbm"
	close "$T/one.rbm" "$T/resumed.rbm" 1e-6
	# the log of the resumed run holds every epoch, the first from the checkpoint
	[ "$(tiny-dump --fields epoch "$T/log.tiny" | tr '\n' ' ')" = "epoch=0 epoch=1 epoch=2 " ]
}

@test "killing one rank mid-epoch stops all within seconds with one line naming it; the checkpoint resumes" {
	tiny-fetch -q synthetic --count 400 >"$T/d.tiny"
	set -- --hidden 64 --batch 10 --epochs 1000 --checkpoint "$T/ck.rbm" --checkpoint-every 2b
	tiny-rbm-train --hosts localhost,localhost "$@" "$T/d.tiny" >"$T/out.rbm" 2>"$T/err" &
	pid=$!
	for i in $(seq 100); do [ -f "$T/ck.rbm" ] && break; sleep 0.1; done
	[ -f "$T/ck.rbm" ]
	victim=$(rank_pid "$T/ck.rbm" 1)
	[ -n "$victim" ]
	kill -9 $victim
	t0=$SECONDS
	rc=0
	wait $pid || rc=$?
	echo "exit $rc after $((SECONDS - t0)) s" >&2
	cat "$T/err" >&2
	[ $rc -ne 0 ] && [ $((SECONDS - t0)) -le 10 ]
	[ "$(grep -c 'rank 1 on host .* died (signal 9' "$T/err")" = 1 ]
	! grep -q -- '-----' "$T/err"
	[ -z "$(rank_pid "$T/ck.rbm" 0)" ]
	[ ! -s "$T/out.rbm" ]
	! ls "$T" | grep -q 'ck.rbm.tmp'   # no half-written checkpoint left behind
	# the checkpoint is whole and resumes, here on one process
	run -0 tiny-rbm-train -q --init "$T/ck.rbm" --hidden 64 --batch 10 --epochs 1 "$T/d.tiny"
}

# --- real hosts -------------------------------------------------------------------

# sshd_start DIR ADDRESS...: an OpenSSH server of its own on a free port of
# the given addresses (in the current network namespace), with a
# throw-away host key and user key; DIR/ssh is the client mpirun should use.
sshd_start() {
	local d=$1 a
	shift
	[ -x /usr/sbin/sshd ] || skip "/usr/sbin/sshd is absent (Debian's openssh-server)"
	[ "$(id -u)" = 0 ] || skip "the SSH test logs in as root and needs root for sshd"
	mkdir -p "$d" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey"
	ssh-keygen -q -t ed25519 -N '' -f "$d/userkey"
	cp "$d/userkey.pub" "$d/authorized_keys"
	PORT=$((20000 + RANDOM % 20000))
	{
		echo "Port $PORT"
		for a; do echo "ListenAddress $a"; done
		echo "HostKey $d/hostkey"
		echo "AuthorizedKeysFile $d/authorized_keys"
		echo "PidFile $T/sshd-$(basename "$d").pid"
		printf '%s\n' "PasswordAuthentication no" "KbdInteractiveAuthentication no" \
			"PermitRootLogin prohibit-password" "StrictModes no" "UsePAM no"
	} >"$d/sshd_config"
	${NETNS_EXEC:-} /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log"
	printf '#!/bin/sh\nexec ssh -i %s -p %s -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$@"\n' \
		"$d/userkey" "$PORT" >"$d/ssh"
	chmod +x "$d/ssh"
	for i in $(seq 50); do [ -f "$T/sshd-$(basename "$d").pid" ] && return; sleep 0.1; done
	false
}

@test "--hosts starts a two-host job through a real SSH server, with no prompt and nothing left running" {
	sshd_start "$T/sshd" 127.0.0.2 127.0.0.3
	bin "$T/d.tiny" 120 24
	set -- --visible binary --hidden 17 --batch 20 --epochs 2
	tiny-rbm-train -q "$@" "$T/d.tiny" >"$T/one.rbm"
	OMPI_MCA_plm_rsh_agent="$T/sshd/ssh" timeout 60 tiny-rbm-train -q --hosts 127.0.0.2,127.0.0.3 "$@" \
		--log "$T/log.tiny" <"$T/d.tiny" >"$T/two.rbm"
	close "$T/one.rbm" "$T/two.rbm" 1e-6
	# both processes came through sshd, one login a host at least
	[ "$(grep -c 'Accepted publickey' "$T/sshd/sshd.log")" -ge 2 ]
	kill "$(cat "$T/sshd-sshd.pid")"
	sleep 0.5
	[ -z "$(rank_pid "$T/log.tiny" 0)$(rank_pid "$T/log.tiny" 1)" ]
	! pgrep -f "sshd -f $T/sshd/sshd_config"
}

@test "an unreachable host of --hosts is one line naming the list, and a non-zero exit" {
	sshd_start "$T/sshd" 127.0.0.2
	bin "$T/d.tiny" 20 8
	run --separate-stderr env OMPI_MCA_plm_rsh_agent="$T/sshd/ssh" timeout 60 \
		tiny-rbm-train -q --hosts 127.0.0.2,127.0.0.9 --hidden 3 "$T/d.tiny"
	[ $status -ne 0 ] && [ $status -ne 124 ]
	assert_output ""
	[[ "$stderr" == *"tiny-rbm-train: mpirun could not start a process on every host of --hosts 127.0.0.2,127.0.0.9"* ]]
	[[ "$stderr" != *"-----"* ]]
}

@test "two hosts in two network namespaces train over a veth pair" {
	[ "$(id -u)" = 0 ] || skip "network namespaces need root"
	NS_A=tinyA$$ NS_B=tinyB$$
	ip netns add $NS_A 2>/dev/null || skip "cannot create network namespaces here"
	ip netns add $NS_B
	local net=10.231.$((RANDOM % 250))
	ip link add va$$ type veth peer name vb$$ || skip "cannot create veth pairs here"
	ip link set va$$ netns $NS_A
	ip link set vb$$ netns $NS_B
	ip -n $NS_A addr add $net.1/24 dev va$$
	ip -n $NS_B addr add $net.2/24 dev vb$$
	ip -n $NS_A link set va$$ up; ip -n $NS_B link set vb$$ up
	ip -n $NS_A link set lo up; ip -n $NS_B link set lo up
	NETNS_EXEC="ip netns exec $NS_B" sshd_start "$T/sshd" $net.2
	bin "$T/d.tiny" 120 24
	set -- --visible binary --hidden 17 --batch 20 --epochs 2
	tiny-rbm-train -q "$@" "$T/d.tiny" >"$T/one.rbm"
	ip netns exec $NS_A env OMPI_MCA_plm_rsh_agent="$T/sshd/ssh" OMPI_MCA_btl_tcp_if_include=$net.0/24 \
		OMPI_MCA_oob_tcp_if_include=$net.0/24 timeout 60 \
		tiny-rbm-train --hosts $net.1,$net.2 "$@" <"$T/d.tiny" >"$T/two.rbm" 2>"$T/err"
	close "$T/one.rbm" "$T/two.rbm" 1e-6
	# the veth carried at least the minibatches' bytes
	sent=$(grep -o 'minibatches [0-9]*' "$T/err" | cut -d' ' -f2)
	rx=$(ip -n $NS_B -s -j link show vb$$ | $PY -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]; print(s["rx"]["bytes"] + s["tx"]["bytes"])')
	echo "minibatches $sent bytes, veth $rx bytes" >&2
	[ "$sent" -gt 0 ] && [ "$rx" -ge "$sent" ]
}
