//! What the http tool offers plugins beyond typed routes: route groups,
//! middleware per route and per plugin, Server-Sent Events and WebSocket.
#![allow(missing_docs, missing_debug_implementations)]

mod support;

use std::convert::Infallible;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::sse::{Event as SseEvent, Sse};
use axum::routing::{MethodRouter, get};
use domains::prelude::*;
use futures::{SinkExt, StreamExt};
use tower_http::set_header::SetResponseHeaderLayer;

fn header(name: &'static str) -> impl Fn(MethodRouter) -> MethodRouter + Clone {
    move |route| {
        route.layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static("yes"),
        ))
    }
}

/// Two routes under `/mw`, both with the plugin's layer, one with its own.
#[plugin(domain = "demo")]
pub struct Layered {
    http: Http,
}

impl Plugin for Layered {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        let http = self.http.group("/mw").with_layer(header("x-plugin"));
        http.get("/route", &self, Self::answer)
            .layer(header("x-route"));
        http.get("/plain", &self, Self::answer);
        http.route(Method::GET, "/sse", get(|| async { Sse::new(ticks()) }));
        http.route(
            Method::GET,
            "/ws",
            get(|ws: axum::extract::ws::WebSocketUpgrade| async move {
                ws.on_upgrade(|mut socket| async move {
                    while let Some(Ok(message)) = socket.recv().await {
                        if socket.send(message).await.is_err() {
                            break;
                        }
                    }
                })
            }),
        );
        Ok(())
    }
}

impl Layered {
    async fn answer(self: Arc<Self>) -> Result<&'static str> {
        Ok("ok")
    }
}

fn ticks() -> impl futures::Stream<Item = std::result::Result<SseEvent, Infallible>> {
    futures::stream::iter(0..3).map(|i| Ok(SseEvent::default().data(format!("tick {i}"))))
}

#[tokio::test]
async fn groups_middleware_sse_and_websocket() {
    let running = support::app::boot_in_memory().await;
    let addr = running.handle::<Http>().unwrap().local_addr().unwrap();

    let route = reqwest::get(format!("http://{addr}/mw/route"))
        .await
        .unwrap();
    assert_eq!(
        (
            route.headers().get("x-plugin"),
            route.headers().get("x-route").is_some()
        ),
        (Some(&HeaderValue::from_static("yes")), true)
    );
    let plain = reqwest::get(format!("http://{addr}/mw/plain"))
        .await
        .unwrap();
    assert!(plain.headers().get("x-plugin").is_some() && plain.headers().get("x-route").is_none());

    let sse = reqwest::get(format!("http://{addr}/mw/sse")).await.unwrap();
    assert_eq!(sse.headers()["content-type"], "text/event-stream");
    let body = tokio::time::timeout(Duration::from_secs(5), sse.text())
        .await
        .unwrap()
        .unwrap();
    assert!(
        body.contains("data: tick 0\n\n") && body.contains("data: tick 2\n\n"),
        "{body}"
    );

    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/mw/ws"))
        .await
        .unwrap();
    socket
        .send(tokio_tungstenite::tungstenite::Message::text("echo me"))
        .await
        .unwrap();
    let echoed = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(echoed.into_text().unwrap().as_str(), "echo me");
    running.shutdown().await;
}
