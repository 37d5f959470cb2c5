#!/usr/bin/env bash
# Build the lcbot image (Dockerfile) and check the container against the Bot API stand-in
# (tests/fakes/telegram_api.py), the way bench/serving.py checks `lcbot run --webhook` without a container:
#
#   - it becomes ready (/healthz 200) and the image's own HEALTHCHECK command passes;
#   - it registers its webhook (setWebhook with the secret) at the stand-in;
#   - a POST to /telegram with the secret header is acknowledged and answered (the stand-in records the
#     sendMessage); a wrong or missing secret gets 403;
#   - it runs as the image's user (uid 10001), with the SQLite file in the /data volume, JSON logs;
#   - stop (SIGTERM) exits 0; a restart on the same volume is ready again and drops a redelivered update;
#   - the image size.
#
#   bench/container-check.sh                  # docker or podman; FROM python:3.11-slim (needs Docker Hub)
#   BASE_IMAGE=mirror.example.org/python:3.11-slim bench/container-check.sh
#   STANDIN_BASE=1 bench/container-check.sh   # no Docker Hub: first build a stand-in for python:3.11-slim
#                                             # from Debian bookworm (mmdebstrap, as root), and use it
#   SANDBOX=1 STANDIN_BASE=1 bench/container-check.sh   # the development machine: see docs/operations.md
#
# Environment: ENGINE (docker | podman; default: the one that answers), IMAGE (localhost/lcbot:check),
# BASE_IMAGE, STANDIN_BASE=1, SKIP_BUILD=1, NETWORK (host: the container shares the host's network and
# listens on a free port; slirp (podman only): its own network, published with -p 127.0.0.1:PORT:8080, the
# image's default LCBOT_LISTEN, the host's loopback reachable as 10.0.2.2; default slirp when podman has
# slirp4netns), BUILD_FLAGS / RUN_FLAGS (extra engine flags), PYTHON (runs the stand-in; default .venv's).
# SANDBOX=1 adds the flags a sandbox without cgroup v2 and with an intercepting HTTPS proxy needs (podman):
# runc (crun refuses hybrid cgroups), ulimits within the hard limits, and the host's CA certificates mounted
# for the build's RUN steps only (they do not end up in the image).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/lcbot:check}
STANDIN_IMAGE=localhost/lcbot-standin-python:3.11-slim
PYTHON=${PYTHON:-.venv/bin/python}
SECRET=container-check_0123456789
NAME=lcbot-container-check-$$
VOLUME=$NAME-data
read -r -a BUILD_FLAGS <<<"${BUILD_FLAGS:-}"  # words, e.g. BUILD_FLAGS="--pull --no-cache"
read -r -a RUN_FLAGS <<<"${RUN_FLAGS:-}"
failures=0
ready_s=- stop_s=-
workdir=$(mktemp -d)
standin_pid=

if [[ -z ${ENGINE:-} ]]; then
    if docker info >/dev/null 2>&1; then ENGINE=docker; elif command -v podman >/dev/null; then ENGINE=podman
    else echo "no container engine: install docker or podman" >&2; exit 2; fi
fi
if [[ ${SANDBOX:-} == 1 ]]; then
    RUN_FLAGS+=(--runtime runc --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
    BUILD_FLAGS+=(--runtime runc --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096
                  -v /etc/ssl/certs:/etc/ssl/certs:ro)
fi
if [[ $ENGINE == podman ]]; then
    BUILD_FLAGS+=(--format docker)  # OCI format (podman's default) drops HEALTHCHECK and STOPSIGNAL
fi
if [[ -z ${NETWORK:-} ]]; then
    if [[ $ENGINE == podman ]] && command -v slirp4netns >/dev/null; then NETWORK=slirp; else NETWORK=host; fi
fi

cleanup() {
    "$ENGINE" rm -f "$NAME" >/dev/null 2>&1 || true
    "$ENGINE" volume rm -f "$VOLUME" >/dev/null 2>&1 || true
    if [[ -n $standin_pid ]]; then kill "$standin_pid" 2>/dev/null; wait "$standin_pid" 2>/dev/null || true; fi
    rm -rf "$workdir"
}
trap cleanup EXIT

check() {  # check DESCRIPTION COMMAND...: run it, print PASS/FAIL
    if "${@:2}"; then echo "PASS  $1"; else echo "FAIL  $1"; failures=$((failures + 1)); fi
}

free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---------------------------------------------------------------- the stand-in base image (no Docker Hub)
if [[ ${STANDIN_BASE:-} == 1 ]]; then
    BASE_IMAGE=$STANDIN_IMAGE
    if ! "$ENGINE" image exists "$STANDIN_IMAGE" 2>/dev/null && ! "$ENGINE" image inspect "$STANDIN_IMAGE" >/dev/null 2>&1; then
        echo "building $STANDIN_IMAGE: Debian bookworm minbase + python3 (3.11), a venv at /usr/local as in python:3.11-slim"
        mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,passwd,ca-certificates,netbase,tzdata \
            --aptopt='APT::Install-Recommends "false"' --dpkgopt='path-exclude=/usr/share/doc/*' \
            --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
            bookworm "$workdir/rootfs.tar" http://deb.debian.org/debian
        cat >"$workdir/Containerfile" <<'EOF'
FROM scratch
ADD rootfs.tar /
ENV LANG=C.UTF-8
# python, python3 and pip in /usr/local/bin (on PATH), packages in /usr/local/lib/python3.11/site-packages
RUN python3 -m venv /usr/local && /usr/local/bin/pip --version
CMD ["python3"]
EOF
        "$ENGINE" build "${BUILD_FLAGS[@]}" -t "$STANDIN_IMAGE" "$workdir"
        rm -f "$workdir/rootfs.tar"
    fi
fi

# ---------------------------------------------------------------- build
if [[ ${SKIP_BUILD:-} != 1 ]]; then
    started=$(date +%s)
    "$ENGINE" build "${BUILD_FLAGS[@]}" ${BASE_IMAGE:+--build-arg "BASE_IMAGE=$BASE_IMAGE"} -t "$IMAGE" . \
        >"$workdir/build.log" 2>&1 || { tail -30 "$workdir/build.log"; echo "FAIL  build"; exit 1; }
    echo "PASS  build ($ENGINE, base ${BASE_IMAGE:-python:3.11-slim}, $(($(date +%s) - started)) s)"
fi

# ---------------------------------------------------------------- the Bot API stand-in
: >"$workdir/standin.out"
"$PYTHON" -m tests.fakes.telegram_api --port 0 >"$workdir/standin.out" 2>&1 &
standin_pid=$!
for _ in $(seq 100); do [[ $(wc -l <"$workdir/standin.out") -ge 2 ]] && break; sleep 0.1; done
api_port=$(sed -n 's|^base_url: http://127.0.0.1:\([0-9]*\)/bot$|\1|p' "$workdir/standin.out")
token=$(sed -n 's|^token: *||p' "$workdir/standin.out")
[[ -n $api_port && -n $token ]] || { cat "$workdir/standin.out"; echo "FAIL  the stand-in did not start"; exit 1; }
control=http://127.0.0.1:$api_port/__control

# ---------------------------------------------------------------- run
port=$(free_port)
if [[ $NETWORK == slirp ]]; then
    network=(--network slirp4netns:allow_host_loopback=true -p "127.0.0.1:$port:8080")
    api_url=http://10.0.2.2:$api_port/bot
else
    network=(--network host -e "LCBOT_LISTEN=127.0.0.1:$port")
    api_url=http://127.0.0.1:$api_port/bot
fi
url=http://127.0.0.1:$port
"$ENGINE" volume create "$VOLUME" >/dev/null
run_container() {
    "$ENGINE" run -d --name "$NAME" "${RUN_FLAGS[@]}" "${network[@]}" -v "$VOLUME:/data" \
        -e "TELEGRAM_BOT_TOKEN=$token" -e "LCBOT_TELEGRAM_API_URL=$api_url" \
        -e LCBOT_WEBHOOK_URL=https://bot.example.org -e "LCBOT_WEBHOOK_SECRET=$SECRET" "$IMAGE" 2>/dev/null
}
wait_ready() {  # seconds from now until /healthz answers 200, or fail after 60 s
    local start=$EPOCHREALTIME
    for _ in $(seq 600); do
        if [[ $(curl -s -o /dev/null -w '%{http_code}' "$url/healthz") == 200 ]]; then
            ready_s=$(echo "$EPOCHREALTIME - $start" | bc); return 0
        fi
        [[ $("$ENGINE" inspect -f '{{.State.Running}}' "$NAME") == true ]] || break
        sleep 0.1
    done
    "$ENGINE" logs "$NAME" 2>&1 | grep -v '"alembic' | tail -5; return 1
}
healthcheck() {
    if [[ $ENGINE == podman ]]; then podman healthcheck run "$NAME" >/dev/null
    else  # docker runs the first check only after --interval: run the image's own command now
        mapfile -t test < <(docker image inspect -f '{{json .Config.Healthcheck.Test}}' "$IMAGE" | jq -r '.[1:][]')
        docker exec "$NAME" "${test[@]}"
    fi
}
update() {  # update ID TEXT
    printf '{"update_id": %d, "message": {"message_id": 1, "date": %d, "chat": {"id": 424242, "type": "private"}, "from": {"id": 424242, "is_bot": false, "first_name": "Ada", "language_code": "en"}, "text": "%s"}}' \
        "$1" "$(date +%s)" "$2"
}
post() {  # post SECRET BODY: prints the HTTP status
    curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        ${1:+-H "X-Telegram-Bot-Api-Secret-Token: $1"} --data-binary "$2" "$url/telegram"
}
sent() { curl -s "$control/calls" | jq '[.result[] | select(.method == "sendMessage")] | length'; }
webhook_registered() {
    curl -s "$control/calls" | jq -e --arg secret "$SECRET" '[.result[] | select(.method == "setWebhook"
        and .params.secret_token == $secret and .params.url == "https://bot.example.org/telegram")] | length == 1' >/dev/null
}
answered() {  # the stand-in got a sendMessage to the user that answers the question
    curl -s "$control/wait?method=sendMessage&count=1&timeout=20" | jq -e .ok >/dev/null &&
        curl -s "$control/messages?chat_id=424242" | jq -e '.result[0].text | test("learning city"; "i")' >/dev/null
}
uid() { "$ENGINE" exec "$NAME" sh -c 'grep "^Uid:" /proc/1/status' | awk '{print $2}'; }
json_logs() { "$ENGINE" logs "$NAME" 2>&1 | grep '^{' | head -5 | jq -e .level >/dev/null; }
exit_code() { "$ENGINE" inspect -f '{{.State.ExitCode}}' "$NAME"; }
stop() {  # SIGTERM (the image's STOPSIGNAL), SIGKILL after 30 s
    local start=$EPOCHREALTIME
    "$ENGINE" stop -t 30 "$NAME" >/dev/null 2>&1
    stop_s=$(echo "$EPOCHREALTIME - $start" | bc)
}
redelivery_dropped() {  # the same update again: acknowledged, not answered twice
    local before
    before=$(sent)
    [[ $(post "$SECRET" "$(update 1001 'What is a learning city?')") == 200 ]] && sleep 1 && [[ $(sent) == "$before" ]]
}

run_container >/dev/null
check "ready: /healthz 200" wait_ready || true
((failures == 0)) || exit 1
echo "      ready ${ready_s} s after '$ENGINE run' returned (network: $NETWORK)"
check "the image's HEALTHCHECK command passes" healthcheck
check "setWebhook registered <URL>/telegram with the secret" webhook_registered
check "POST with the secret: 200" test "$(post "$SECRET" "$(update 1001 'What is a learning city?')")" = 200
check "the stand-in received the answer (sendMessage to the user)" answered
check "POST with a wrong secret: 403" test "$(post wrong-secret "$(update 1002 'hello')")" = 403
check "POST without the secret: 403" test "$(post '' "$(update 1003 'hello')")" = 403
check "runs as uid 10001 (lcbot), not root" test "$(uid)" = 10001
check "the SQLite file is in the /data volume, owned by lcbot" "$ENGINE" exec "$NAME" test -O /data/lcbot.db
check "logs are JSON lines" json_logs
stop
check "stop (SIGTERM) exits 0 (took ${stop_s} s)" test "$(exit_code)" = 0
"$ENGINE" rm "$NAME" >/dev/null 2>&1
run_container >/dev/null
check "a new container on the same volume is ready" wait_ready
echo "      ready ${ready_s} s"
check "  and drops a redelivered update (200, no second answer)" redelivery_dropped
stop
check "  and stops with exit 0 (took ${stop_s} s)" test "$(exit_code)" = 0

size=$("$ENGINE" image inspect -f '{{.Size}}' "$IMAGE")
base_size=$("$ENGINE" image inspect -f '{{.Size}}' "${BASE_IMAGE:-python:3.11-slim}" 2>/dev/null || echo 0)
if ((base_size)); then
    echo "image $IMAGE: $((size / 1000000)) MB: $(((size - base_size) / 1000000)) MB over its base" \
         "${BASE_IMAGE:-python:3.11-slim} ($((base_size / 1000000)) MB)"
else
    echo "image $IMAGE: $((size / 1000000)) MB"
fi
if ((failures)); then echo "$failures check(s) FAILED"; exit 1; fi
echo "all checks passed"
