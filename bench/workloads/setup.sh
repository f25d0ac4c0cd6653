#!/usr/bin/env bash
# Debian packages the workload recorder needs (run as root): an X server, the
# programs it drives, ffmpeg to record, and fonts for Japanese text.
set -euo pipefail
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xvfb xterm xdotool x11-xserver-utils ffmpeg chromium fonts-noto-cjk fonts-dejavu-core
