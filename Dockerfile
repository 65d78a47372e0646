# error-render's container image: a Rust builder stage, then a small Debian
# runtime running as a non-root user, templates at /templates.
#
# Upstream (registry reachable):
#   docker build -t error-render .
# Without a registry, from locally made bases and a vendored context
# (scripts/container.sh does it all):
#   docker build \
#     --build-arg BUILDER_IMAGE=error-render/rust-builder:bookworm \
#     --build-arg RUNTIME_IMAGE=error-render/debian-base:bookworm -t error-render <context>
ARG BUILDER_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILDER_IMAGE} AS builder
# The local builder base carries its toolchain here; harmless upstream.
ENV PATH=/usr/local/rust/bin:/usr/local/cargo/bin:$PATH
WORKDIR /src
# .dockerignore lets through only the crate's sources, plus `vendor/` and
# `.cargo/config.toml` when an offline context carries them
# (scripts/container.sh: `cargo vendor`, for builders without crates.io).
COPY . .
RUN cargo build --release --locked --bin error-render \
    && strip target/release/error-render

FROM ${RUNTIME_IMAGE}
# A fixed uid/gid so mounted template folders can be made readable to it.
RUN groupadd --system --gid 10001 error-render \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin error-render
COPY --from=builder /src/target/release/error-render /usr/local/bin/error-render
# The gateway's bundled templates, so the image answers before a folder is
# mounted over them.
COPY --chown=10001:10001 templates/error.json templates/error.xml /templates/
VOLUME /templates
ENV ERROR_RENDER_LISTEN=0.0.0.0:8080 \
    ERROR_RENDER_TEMPLATES=/templates
EXPOSE 8080
USER 10001:10001
# `healthcheck` GETs /healthz at ERROR_RENDER_LISTEN itself: no curl needed.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["error-render", "healthcheck"]
ENTRYPOINT ["error-render"]
CMD ["serve"]
