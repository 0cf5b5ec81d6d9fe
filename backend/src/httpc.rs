//! The outgoing HTTP/1.1 client shared by the CLI (to the daemon) and the
//! registry client (to registries): one connection per request over a unix or
//! TCP stream, driven by hyper.

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full, StreamBody};
use hyper::body::{Body, Frame, Incoming};
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
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "connection closed");
        }
    });
    sender.send_request(req).await
}

/// The request body type of every outgoing request.
pub type ReqBody = BoxBody<Bytes, std::io::Error>;

pub fn empty() -> ReqBody {
    Empty::new().map_err(|never| match never {}).boxed()
}

pub fn full(b: impl Into<Bytes>) -> ReqBody {
    Full::new(b.into()).map_err(|never| match never {}).boxed()
}

/// Streams an async reader (a file, stdin) as the request body.
pub fn reader_body(r: impl tokio::io::AsyncRead + Send + Sync + 'static) -> ReqBody {
    use futures_util::TryStreamExt;
    let s = tokio_util::io::ReaderStream::with_capacity(r, 256 * 1024).map_ok(Frame::data);
    BodyExt::boxed(StreamBody::new(s))
}
