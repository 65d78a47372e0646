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

# The build context as one stage, so the builder below can take the few files
# each of its layers needs from it. Copying Cargo.toml and Cargo.lock this way
# keeps the dependency layer cached across source edits (a layer made by COPY
# is keyed on the content it copies). `vendor/` and `.cargo/` exist only in an
# offline context (scripts/container.sh: `cargo vendor`); empty here otherwise.
FROM ${BUILDER_IMAGE} AS context
COPY . /ctx
RUN mkdir -p /ctx/vendor /ctx/.cargo

FROM ${BUILDER_IMAGE} AS builder
# The local builder base carries its toolchain here; harmless upstream.
ENV PATH=/usr/local/rust/bin:/usr/local/cargo/bin:$PATH
WORKDIR /src
# 1. Dependencies only: the manifest, the lock file and stand-in targets.
#    Rebuilt only when Cargo.toml, Cargo.lock or the vendored crates change.
COPY --from=context /ctx/Cargo.toml /ctx/Cargo.lock ./
COPY --from=context /ctx/.cargo ./.cargo
COPY --from=context /ctx/vendor ./vendor
RUN mkdir -p src/bin/error-render benches \
    && echo 'fn main() {}' > src/bin/error-render/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > benches/render.rs \
    && cargo build --release --locked --bin error-render \
    && rm -rf src benches \
       target/release/.fingerprint/error-render-* \
       target/release/deps/error_render-* target/release/deps/liberror_render-*
# 2. The crate itself, over the cached dependencies.
COPY --from=context /ctx/src ./src
COPY --from=context /ctx/benches ./benches
COPY --from=context /ctx/data ./data
COPY --from=context /ctx/templates ./templates
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
