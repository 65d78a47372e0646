//! A small axum app behind [`ErrorLayer`]: its error responses are answered
//! from a template folder it watches, in the format the request's `Accept`
//! negotiates (JSON or XML as Tyk Gateway would, or HTML, text and problem
//! details).
//!
//! ```text
//! cargo run --example axum_layer -- --listen 127.0.0.1:3000 --templates templates
//! curl -i localhost:3000/ok       # 200, untouched
//! curl -i localhost:3000/missing  # the handler's bare 404, rendered
//! curl -i localhost:3000/quota    # 429 "Quota exceeded", named by the handler
//! curl -i -H 'Accept: text/html' localhost:3000/missing  # the HTML page
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Router};
use error_render::Renderer;
use error_render::layer::{ErrorLayer, RenderAs};

/// The app: `/ok`, `/missing` and `/quota`, behind `layer`.
pub fn app(layer: ErrorLayer) -> Router {
    Router::new()
        .route("/ok", get(|| async { "ok\n" }))
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route("/quota", get(quota))
        .layer(layer)
}

async fn quota() -> impl IntoResponse {
    (
        StatusCode::TOO_MANY_REQUESTS,
        Extension(RenderAs::code(429).message("Quota exceeded")),
    )
}

/// `--listen ADDR` (default 127.0.0.1:3000) and `--templates DIR` (default
/// `templates`).
fn args() -> Result<(SocketAddr, PathBuf), String> {
    let mut listen = SocketAddr::from(([127, 0, 0, 1], 3000));
    let mut templates = PathBuf::from("templates");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--listen" => {
                listen = value
                    .parse()
                    .map_err(|e| format!("--listen {value:?}: {e} (use HOST:PORT)"))?;
            }
            "--templates" => templates = value.into(),
            _ => {
                return Err(format!(
                    "unknown flag {flag}: use --listen ADDR --templates DIR"
                ));
            }
        }
    }
    Ok((listen, templates))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (listen, templates) = args()?;
    // Kept alive for as long as the app serves: dropping it stops watching.
    let live = Renderer::builder().templates(templates).build_live()?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(ErrorLayer::from_live(&live))).await?;
    Ok(())
}
