# syntax=docker/dockerfile:1
# Strata's container image: `docker build -t strata .` from the repository root.
# Build stage: the release binary (RocksDB compiles from source: 15+ minutes on two cores; the
# cache mounts keep the registry and the target directory between builds).
# x86_64 only as it stands: .cargo/config.toml enables SSE4.2/PCLMUL for RocksDB's CRC32c.
FROM rust:1.95-bookworm AS build
# librocksdb-sys runs bindgen, which needs libclang; clang compiles nothing here but ships it.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libclang-dev clang \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin strata-server \
    && install -m 0755 target/release/strata-server /usr/local/bin/strata-server

# Runtime stage: the binary, tini and the C++ runtime RocksDB links against.
FROM debian:bookworm-slim
# tini runs as PID 1: it forwards SIGTERM to the server (which closes RocksDB cleanly, also
# when the signal comes while the data directory opens) and reaps children.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini libstdc++6 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 strata \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin strata \
    && mkdir -p /data /etc/strata \
    && chown 10001:10001 /data
COPY --from=build /usr/local/bin/strata-server /usr/local/bin/strata-server
COPY deploy/docker/strata.conf /etc/strata/strata.conf
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# 6379: Redis protocol; 9121: /metrics, /healthz, /readyz.
EXPOSE 6379 9121
# Ready once the data directory is open and commands are accepted (no curl in the image: bash's
# /dev/tcp speaks the one HTTP request). Kubernetes ignores this and uses its own probes.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9121 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# Extra arguments are `--directive value` overrides: `docker run strata --maxmemory 20gb`.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/strata-server", "/etc/strata/strata.conf"]
