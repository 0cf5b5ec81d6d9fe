//! The outgoing HTTP/1.1 client shared by the CLI (to the daemon) and the
//! registry client (to registries): one connection per request over a unix or
//! TCP stream, driven by hyper.

use hyper::body::{Body, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// Sends `req` over `stream` and returns the response head; the body streams.
pub async fn roundtrip<S, B>(stream: S, req: Request<B>) -> Result<Response<Incoming>, hyper::Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "connection closed");
        }
    });
    sender.send_request(req).await
}
