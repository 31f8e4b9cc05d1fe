//! The http tool's lifecycle: bind at setup (so a taken port fails the
//! boot early and port 0 is known), serve once every plugin has registered
//! its routes, drain in-flight requests at shutdown. Under a supervisor
//! that holds the socket across restarts (`microcore dev`, systemfd,
//! systemd socket activation: `LISTEN_FDS`), serve that socket instead of
//! binding, so no connection is refused while the app restarts.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use axum::Router;
use microcore::diagnostic::Diagnostic;
use microcore::prelude::*;
use microcore_config::Config;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::handle::{RouteEntry, Shared};
use crate::openapi::{self, DocumentedRoute};
use crate::panic::RouteOwners;
use crate::scope::Provided;
use crate::settings::HttpSettings;
use crate::{Http, conflicts, layers};
use microcore::sync::lock;

/// The listening socket a supervisor handed down as fd 3, taken at
/// `pre_boot` (listenfd clears `LISTEN_FDS`, and that is the moment the
/// config tool edits the environment too) for the first boot's `setup`:
/// one fd is one socket, so it is taken once per process.
static INHERITED: Mutex<Option<Result<std::net::TcpListener, String>>> = Mutex::new(None);

/// The built-in http tool: axum on tokio.
#[tool]
#[derive(Debug)]
pub struct AxumHttp {
    config: Config,
    #[state]
    running: Mutex<Option<Server>>,
}

#[derive(Debug)]
struct Server {
    shared: Arc<Shared>,
    settings: HttpSettings,
    listener: Option<tokio::net::TcpListener>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Tool for AxumHttp {
    type Handle = Http;
    const CRITICAL: bool = true;
    const DRY_RUN: &'static [(&'static str, &'static str)] =
        &[("HTTP_HOST", "127.0.0.1"), ("HTTP_PORT", "0")];

    fn pre_boot() {
        if std::env::var_os("LISTEN_FDS").is_none() {
            return;
        }
        // `Ok(None)`: LISTEN_PID names another process; bind as usual.
        *lock(&INHERITED) = listenfd::ListenFd::from_env()
            .take_tcp_listener(0)
            .map_err(|e| e.to_string())
            .transpose();
    }

    async fn setup(&self, ctx: &ToolContext) -> Result<Http> {
        let settings = HttpSettings::from_config(&self.config)?;
        let shared = Arc::new(Shared::default());
        let listener = if ctx.dry_run {
            // The routes are gathered and checked, but nothing is served.
            None
        } else {
            let listener = listen(&settings).await?;
            let _ = shared.local_addr.set(listener.local_addr()?);
            Some(listener)
        };
        let _ = shared.kernel.set(ctx.registry.clone());
        *self.lock() = Some(Server {
            shared: shared.clone(),
            settings,
            listener,
            stop: watch::channel(false).0,
            task: None,
        });
        Ok(Http::new(shared))
    }

    fn withdraw(&self, plugin: &str) {
        if let Some(server) = self.lock().as_ref() {
            lock(&server.shared.routes).retain(|r| r.owner != plugin);
            lock(&server.shared.layers).retain(|l| l.0 != plugin);
            lock(&server.shared.provided).retain(|p| p.0 != plugin);
        }
    }

    fn verify(&self) -> Vec<Diagnostic> {
        self.lock()
            .as_ref()
            .map(|server| conflicts::find(&lock(&server.shared.routes)))
            .unwrap_or_default()
    }

    async fn on_boot_complete(&self) -> Result<()> {
        let mut guard = self.lock();
        let Some(server) = guard.as_mut() else {
            return Ok(());
        };
        let routes = std::mem::take(&mut *lock(&server.shared.routes));
        let api = openapi::document(
            &server.settings.title,
            &routes
                .iter()
                .map(|r| DocumentedRoute {
                    method: r.method_name,
                    path: &r.path,
                    doc: &r.doc,
                })
                .collect::<Vec<_>>(),
        );
        let _ = server.shared.document.set(api.clone());
        let owners = RouteOwners::of(&routes);
        let mut router = build_router(routes)?.merge(crate::docs_page::routes(&api)?);
        for (_, layer) in std::mem::take(&mut *lock(&server.shared.layers)) {
            router = layer(router);
        }
        // `with_state` turns every handler into its finished route now;
        // left as it is, axum would rebuild the handler's service (the
        // whole stack) on every request, as `into_make_service` avoids.
        let app = layers::apply(
            router,
            &server.settings,
            contributions(&server.shared, owners),
        )
        .with_state(());
        let _ = server.shared.served.set(app.clone());
        // A dry run: never bound, nothing to serve.
        let Some(listener) = server.listener.take() else {
            return Ok(());
        };
        let addr = listener.local_addr()?;
        let stop = server.stop.subscribe();
        tracing::info!("listening on http://{addr}");
        server.task = Some(tokio::spawn(crate::serve::serve(
            listener,
            app,
            server.settings.timeout,
            crate::head_limits::hyper_buffer(
                server.settings.max_uri_bytes,
                server.settings.max_header_bytes,
            ),
            stop,
        )));
        Ok(())
    }

    async fn drain(&self) {
        let task = self.lock().as_mut().and_then(|server| {
            let _ = server.stop.send(true);
            server.task.take()
        });
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// The socket to serve: the one a supervisor handed down, or a new one on
/// HTTP_HOST:HTTP_PORT.
async fn listen(settings: &HttpSettings) -> Result<tokio::net::TcpListener> {
    let inherited = lock(&INHERITED).take();
    Ok(match inherited {
        Some(Ok(socket)) => {
            tracing::info!(
                "serving the socket inherited as fd 3 (LISTEN_FDS), not HTTP_HOST/HTTP_PORT"
            );
            socket
                .set_nonblocking(true)
                .and_then(|()| tokio::net::TcpListener::from_std(socket))
                .map_err(|e| {
                    Error::config(format!(
                        "LISTEN_FDS: the inherited socket (fd 3) cannot be served: {e}"
                    ))
                })?
        }
        Some(Err(e)) => {
            return Err(Error::config(format!(
                "LISTEN_FDS is set but fd 3 is not a listening TCP socket: {e}"
            )));
        }
        None => tokio::net::TcpListener::bind(settings.addr)
            .await
            .map_err(|e| {
                Error::config(format!(
                    "cannot listen on {} (HTTP_HOST/HTTP_PORT): {e}",
                    settings.addr
                ))
            })?,
    })
}

impl AxumHttp {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Server>> {
        lock(&self.running)
    }
}

/// What tools and plugins asked the stack to do for every request.
fn contributions(shared: &Shared, owners: RouteOwners) -> layers::Contributions {
    let mut provided = axum::http::Extensions::new();
    for (_, insert) in std::mem::take(&mut *lock(&shared.provided)) {
        insert(&mut provided);
    }
    layers::Contributions {
        provided: Provided(Arc::new(provided)),
        measure: lock(&shared.measure).take(),
        owners: Arc::new(owners),
    }
}

/// Every route in one router. [`conflicts::find`] already refused what
/// axum would panic on; should axum still panic, the boot stops with the
/// route and its registration call rather than the process.
fn build_router(routes: Vec<RouteEntry>) -> Result<Router> {
    let mut router = Router::new();
    for r in routes {
        let (path, owner, site) = (r.path.clone(), r.owner, r.site);
        router = std::panic::catch_unwind(AssertUnwindSafe(|| router.route(&r.path, r.router)))
            .map_err(|panic| {
                Error::config(format!(
                    "route {path} of plugin '{owner}' ({}) cannot be added: {}",
                    microcore::diagnostic::Span::caller(site, ""),
                    microcore::panic::message(&*panic)
                ))
            })?;
    }
    Ok(router)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::time::Duration;

    use command_fds::{CommandFdExt, FdMapping};

    use super::*;

    /// Set in the child process of [`serves_an_inherited_socket_instead_of_binding`].
    const CHILD: &str = "MICROCORE_HTTP_TEST_INHERITED_CHILD";

    /// The app side, run in a child process whose fd 3 is the socket.
    #[tokio::test]
    #[ignore = "run by serves_an_inherited_socket_instead_of_binding in a child process"]
    async fn inherited_socket_child() {
        if std::env::var_os(CHILD).is_none() {
            return;
        }
        AxumHttp::pre_boot();
        let tool = AxumHttp {
            // Were fd 3 ignored, the tool would bind some other port.
            config: Config::from_pairs([("HTTP_PORT", "0")]),
            running: Mutex::new(None),
        };
        let ctx = ToolContext {
            registry: microcore::registry::AppRegistry::new(),
            vars: Default::default(),
            dry_run: false,
        };
        tool.setup(&ctx).await.unwrap();
        tool.on_boot_complete().await.unwrap();
        tokio::time::sleep(Duration::from_secs(60)).await;
    }

    #[test]
    fn serves_an_inherited_socket_instead_of_binding() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "tool::tests::inherited_socket_child",
                "--ignored",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .env("LISTEN_FDS", "1")
            .env_remove("LISTEN_PID")
            .fd_mappings(vec![FdMapping {
                parent_fd: listener.try_clone().unwrap().into(),
                child_fd: 3,
            }])
            .unwrap()
            .spawn()
            .unwrap();
        // This process never accepts: only the child can answer.
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        stream
            .write_all(b"GET /openapi.json HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        let read = stream.read_to_string(&mut answer);
        let _ = child.kill();
        let _ = child.wait();
        read.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}
