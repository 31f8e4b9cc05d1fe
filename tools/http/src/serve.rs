//! The accept loop: the router on hyper's HTTP/1 (WebSocket upgrades
//! included), as `axum::serve` runs it, plus two things it cannot be
//! configured to do. A client gets `HTTP_TIMEOUT_SECS` to send a request's
//! head, then is disconnected, so clients stalled mid-headers cannot pile
//! up. And at shutdown an idle keep-alive connection is closed at once, a
//! new one that has not sent its request head gets 100 ms to send
//! it, and one serving a request finishes it (and its response) first: a
//! stalled client cannot hold the drain until the shutdown timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// How long a connection with no request head yet may still send one once
/// the drain starts.
const UNSTARTED_GRACE: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `stop` turns true, then closes the
/// listener and returns once every connection is done. hyper buffers at
/// most `head_buffer` bytes of a request head (it answers a larger one
/// itself, 431 with no body).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    head_timeout: Duration,
    head_buffer: usize,
    mut stop: watch::Receiver<bool>,
) {
    let mut builder = Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout)
        .max_buf_size(head_buffer);
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
    let started = Arc::new(AtomicBool::new(false));
    let marked = started.clone();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        marked.store(true, Ordering::Relaxed);
        app.clone().oneshot(request.map(Body::new))
    });
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stop.wait_for(|stopped| *stopped) => {}
    }
    // hyper closes a keep-alive connection between requests at once, and
    // lets a request in progress finish; but it counts a new connection as
    // busy from the start, so one that never completed a request head
    // would hold the drain until the head timeout. It gets a moment
    // instead: one accepted just before the stop usually has its request
    // on the way or unread in the socket (dropping it then resets the
    // client's connection, as a hand-over to a new process showed); a
    // stalled one is dropped after the moment.
    if !started.load(Ordering::Relaxed) {
        let moment = tokio::time::sleep(UNSTARTED_GRACE);
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = moment => {}
        }
        if !started.load(Ordering::Relaxed) {
            return;
        }
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}
