//! The accept loop: the router on hyper's HTTP/1 (WebSocket upgrades
//! included), as `axum::serve` runs it, plus two things it cannot be
//! configured to do. A client gets `HTTP_TIMEOUT_SECS` to send a request's
//! head, then is disconnected, so clients stalled mid-headers cannot pile
//! up. And at shutdown a connection with no request in progress (idle, or
//! still sending its head) is closed at once, while one serving a request
//! finishes it (and its response) first: a stalled client cannot hold the
//! drain until the shutdown timeout.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Serves `app` on `listener` until `stop` turns true, then closes the
/// listener and returns once every connection is done.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    head_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut builder = Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout);
    let mut connections = JoinSet::new();
    let stopping = stop.clone();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stopped| *stopped) => break,
        };
        match accepted {
            Ok((stream, _)) => {
                let stop = stopping.clone();
                connections.spawn(connection(builder.clone(), stream, app.clone(), stop));
            }
            // Out of file descriptors, say: wait instead of spinning.
            Err(e) => {
                tracing::warn!("cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn connection(
    builder: Builder,
    stream: TcpStream,
    app: Router,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let busy = Arc::new(AtomicUsize::new(0));
    let counted = busy.clone();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let guard = Busy::enter(&counted);
        let call = app.clone().oneshot(request.map(Body::new));
        async move {
            let response = call.await?;
            // Busy until hyper has written (or dropped) the whole body.
            Ok::<_, Infallible>(response.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _held = &guard;
                    frame
                }))
            }))
        }
    });
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stop.wait_for(|stopped| *stopped) => {}
    }
    if busy.load(Ordering::SeqCst) == 0 {
        return;
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// Counts one request in progress on a connection while it lives.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn enter(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
