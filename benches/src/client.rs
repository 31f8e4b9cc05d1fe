//! One keep-alive HTTP/1.1 connection driven with hyper's connection API:
//! no pool, no retries, nothing between the load generator and the socket
//! that could cost more for one server than for the other.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A request the load generator repeats: a GET of `path`, with a bearer
/// token when the route needs one.
#[derive(Debug, Clone)]
pub(crate) struct Get {
    pub(crate) path: String,
    pub(crate) bearer: Option<String>,
}

impl Get {
    /// A GET of `path` without credentials.
    pub(crate) fn public(path: &str) -> Self {
        Self {
            path: path.to_string(),
            bearer: None,
        }
    }

    /// A GET of `path` with `Authorization: Bearer <token>`.
    pub(crate) fn authorized(path: &str, token: &str) -> Self {
        Self {
            path: path.to_string(),
            bearer: Some(format!("Bearer {token}")),
        }
    }
}

/// What came back.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: hyper::HeaderMap,
    pub(crate) body: Bytes,
}

/// An open connection.
pub(crate) struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    /// Connects (TCP_NODELAY, as a browser or proxy would) and starts the
    /// connection task on the current runtime.
    pub(crate) async fn open(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self {
            sender,
            host: addr.to_string(),
        })
    }

    /// Sends `get` and reads the whole answer.
    pub(crate) async fn send(&mut self, get: &Get) -> Result<Answer, String> {
        let mut request = Request::get(get.path.as_str()).header(header::HOST, self.host.as_str());
        if let Some(bearer) = &get.bearer {
            request = request.header(header::AUTHORIZATION, bearer.as_str());
        }
        let request = request
            .body(Full::default())
            .map_err(|e| format!("bad request: {e}"))?;
        self.exchange(request).await
    }

    /// Sends `body` as JSON with `method` to `path` (a bearer token if
    /// given) and reads the whole answer.
    pub(crate) async fn send_json(
        &mut self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Bytes,
    ) -> Result<Answer, String> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.host.as_str())
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| format!("bad request: {e}"))?;
        self.exchange(request).await
    }

    async fn exchange(&mut self, request: Request<Full<Bytes>>) -> Result<Answer, String> {
        self.sender
            .ready()
            .await
            .map_err(|e| format!("connection lost: {e}"))?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| format!("body not read: {e}"))?
            .to_bytes();
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}
