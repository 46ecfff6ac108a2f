#!/bin/bash
set -u
# run-legacy.sh TMPDIR STAND_INS_DIR VPS_IP...: runs inside unshare -m (see test/support/mynodeone-legacy.ts)
T="$1"; BIN="$2"; shift 2
mount --make-rprivate / || exit 90
if ! mount -t overlay overlay -o "lowerdir=/etc,upperdir=$T/etc-upper,workdir=$T/etc-work" /etc 2>/dev/null; then
  # no overlayfs here: a private copy of /etc, bind-mounted as a whole (the file alone would refuse sed -i)
  cp -a /etc "$T/etc-copy" && mount --bind "$T/etc-copy" /etc || exit 91
fi
cat "$T/hosts-before" > /etc/hosts || exit 92
export PATH="$BIN:$PATH" HOME="$T/home" LEGACY_REGISTRY="$T/registry" LEGACY_OUT="$T/out" SUDO_USER="" ACTUAL_USER=root ACTUAL_HOME="$T/home"
cd "$T/home/MyNodeOne" || exit 93
bash ./scripts/sync-dns.sh > "$T/out/dns.log" 2>&1 </dev/null
echo $? > "$T/out/dns.status"
cp /etc/hosts "$T/out/hosts-after"
for ip in "$@"; do
  rm -f "$HOME/traefik/config/mynodeone-routes.yml" /tmp/mynodeone-routes.yml
  # as sync-controller.sh does for a VPS: the service registry on stdin
  services=$(kubectl get configmap -n kube-system service-registry -o jsonpath='{.data.services\.json}' 2>/dev/null || echo "{}")
  echo "$services" | LEGACY_TAILSCALE_IP="$ip" bash ./scripts/sync-vps-routes.sh > "$T/out/vps-$ip.log" 2>&1
  echo $? > "$T/out/vps-$ip.status"
  if [ -f "$HOME/traefik/config/mynodeone-routes.yml" ]; then cp "$HOME/traefik/config/mynodeone-routes.yml" "$T/out/vps-$ip.yml"; fi
done
