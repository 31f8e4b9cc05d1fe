//! The `http` tool: routes registered by plugins, served by axum, wrapped
//! in one transport stack (request ids, CORS, body limit, timeout, security
//! headers) and one JSON envelope for every answer, errors included.

mod handle;
mod handler;
mod layers;
mod reply;
mod settings;
mod tool;

pub use handle::Http;
pub use handler::PluginFn;
pub use layers::REQUEST_ID;
pub use reply::{IntoReply, Reply, ReplyBody, error_envelope, error_response, success};
pub use settings::HttpSettings;
pub use tool::AxumHttp;
