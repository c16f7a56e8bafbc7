# syntax=docker/dockerfile:1
#
# workplan — container image for the GraphQL service.
#
#   docker build -t workplan .
#   docker run --rm -p 127.0.0.1:8080:8080 workplan            # SQLite in /var/lib/workplan
#   docker run --rm -p 127.0.0.1:8080:8080 \
#     -e DATABASE_URL=postgres://workplan:workplan@db:5432/workplan workplan
#
# Or use docker-compose.yml (PostgreSQL + workplan): `docker compose up --build`.
#
# Health: no HEALTHCHECK here on purpose (the runtime image ships no curl/wget).
# Orchestrators should probe HTTP directly:
#   GET /healthz  -> process is up            (liveness)
#   GET /readyz   -> database is reachable    (readiness)
#
# Requires BuildKit (default since Docker 23) for the cache mounts below.

# Keep in step with rust-toolchain.toml (channel = "1.95.0").
ARG RUST_VERSION=1.95.0
ARG DEBIAN_RELEASE=bookworm

############################################################################
# Builder
############################################################################
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder

WORKDIR /src

# Resolve the toolchain pinned by rust-toolchain.toml (and its components) in
# its own layer, so a source change does not re-download them. A bare
# `rustup toolchain install` reads rust-toolchain.toml (rustup >= 1.28); older
# rustup auto-installs on `rustup show`.
COPY rust-toolchain.toml ./
RUN (rustup toolchain install || rustup show) && rustc --version && cargo --version

# A Cargo workspace makes "manifests first" dependency caching awkward, so copy
# the whole (dockerignored) context and rely on cache mounts for the registry
# and the target directory instead.
COPY . .

# The target dir lives in a cache mount, so the binary must be copied out of it
# within the same RUN step.
RUN --mount=type=cache,id=workplan-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=workplan-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=workplan-target,target=/src/target,sharing=locked \
    cargo build --release --locked -p workplan-server --bin workplan \
 && install -D -m 0755 target/release/workplan /out/workplan

############################################################################
# Runtime
############################################################################
FROM debian:${DEBIAN_RELEASE}-slim AS runtime

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# Unprivileged user; its home is the working directory, which must be writable
# because the default DATABASE_URL is a SQLite file (workplan.db) in the CWD.
RUN groupadd --system --gid 10001 workplan \
 && useradd --system --uid 10001 --gid workplan \
      --home-dir /var/lib/workplan --no-create-home --shell /usr/sbin/nologin workplan \
 && install -d -o workplan -g workplan -m 0750 /var/lib/workplan

# Seeds are embedded at compile time: the binary is all the runtime needs.
COPY --from=builder /out/workplan /usr/local/bin/workplan

USER workplan:workplan
WORKDIR /var/lib/workplan

ENV WORKPLAN_LISTEN=0.0.0.0:8080
EXPOSE 8080

ENTRYPOINT ["/usr/local/bin/workplan"]
CMD ["serve"]
