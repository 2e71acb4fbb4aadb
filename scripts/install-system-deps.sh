#!/usr/bin/env bash
# Install the Debian packages that the test suite needs, only where missing.
# Idempotent: a machine that already has every tool installs nothing.
set -euo pipefail

missing=()
have_pg() {
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}
have_pg || missing+=(postgresql)
# SoftHSM2 for the vault's PKCS#11 provider tests.
command -v softhsm2-util >/dev/null 2>&1 || missing+=(softhsm2)
# OpenSSL's `openssl ts` for the audit log's RFC 3161 time-stamp tests.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
echo "installing system packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
