# syntax=docker/dockerfile:1
#
# OneGrid: one image holding both binaries.
#   onegrid         API server and operational commands (serve, migrate, seed-demo, bootstrap, ...)
#   onegrid-worker  background worker (health and readiness on ONEGRID_WORKER_BIND)
#
#   docker build -t onegrid:dev .
#   docker run --rm onegrid:dev onegrid config      # the configuration variables
#
# The SQL migrations (migrations/, via diesel's embed_migrations!) and the demo JWT keys
# (config/keys/*.pem, via include_str!) are compiled into the binaries, so the runtime
# image needs no source files. PostgreSQL is reached with tokio-postgres (diesel-async):
# no libpq, and no OpenSSL.

# The workspace needs Rust 1.95 or later (rust-version in Cargo.toml).
ARG RUST_IMAGE=rust:1.95.0-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------
FROM ${RUST_IMAGE} AS builder

WORKDIR /src
ENV CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0

COPY Cargo.toml Cargo.lock clippy.toml ./
COPY domain ./domain
COPY config ./config
COPY store ./store
COPY api ./api
COPY worker ./worker
COPY tests ./tests
COPY migrations ./migrations

# target/ and the cargo registry are BuildKit cache mounts, so a rebuild recompiles only
# the workspace crates. The binaries are copied out of the mount in the same step.
# store/build.rs makes cargo rebuild when migrations/ changes (embed_migrations! cannot).
RUN --mount=type=cache,id=onegrid-cargo-registry,target=/usr/local/cargo/registry \
    --mount=type=cache,id=onegrid-cargo-git,target=/usr/local/cargo/git \
    --mount=type=cache,id=onegrid-target,target=/src/target,sharing=locked \
    set -eux; \
    cargo build --release --workspace --bins --locked; \
    install -D -m 0755 target/release/onegrid /out/onegrid; \
    install -D -m 0755 target/release/onegrid-worker /out/onegrid-worker

# ---------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime

# ca-certificates: TLS to managed PostgreSQL/Redis and outgoing webhooks.
# curl: container health checks (GET /readyz).
# procps: `kill`, which `onegrid up` uses to stop the worker it started.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl procps; \
    rm -rf /var/lib/apt/lists/*; \
    groupadd --system --gid 10001 onegrid; \
    useradd --system --uid 10001 --gid onegrid --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin onegrid; \
    install -d -o 10001 -g 10001 -m 0750 /var/lib/onegrid/attachments

COPY --from=builder /out/onegrid /out/onegrid-worker /usr/local/bin/

# Inside a container the services must listen on every interface (the binaries
# default to 127.0.0.1).
ENV ONEGRID_BIND=0.0.0.0:8080 \
    ONEGRID_WORKER_BIND=0.0.0.0:8081 \
    ONEGRID_ATTACHMENT_DIR=/var/lib/onegrid/attachments \
    RUST_LOG=info

# Numeric ids, so orchestrators enforcing runAsNonRoot can verify them.
USER 10001:10001

# 8080: API (onegrid serve). 8081: worker health and readiness (onegrid-worker).
EXPOSE 8080 8081

# Both binaries stop gracefully on SIGTERM (the API drains requests for up to 30 s).
STOPSIGNAL SIGTERM
CMD ["onegrid", "serve"]
