//! What each tool's handle offers a plugin, recorded from the code.
//!
//! `#[tool]` on an inherent `impl` block (`#[tool] impl Db { .. }`) puts one
//! [`ApiBlock`] in [`TOOL_APIS`]: the signature and the first sentence of
//! the doc of every `pub fn` in the block, and the tool's `AI.md` when the
//! block names it (`#[tool(guide = "../AI.md")]`). The registry renders them
//! into `AI_CONTEXT.md`, so the methods listed there are the methods that
//! compile, never a hand-kept copy.

use crate::descriptor::Location;

/// One `pub fn` of a tool's API.
#[derive(Debug, Clone, Copy)]
pub struct Method {
    /// `async fn get(&self, key: &str) -> Result<Option<String>>`, without `pub`.
    pub signature: &'static str,
    /// The first sentence of its doc comment (empty when it has none).
    pub doc: &'static str,
}

/// The public methods of one `impl` block of a tool's API.
///
/// ```
/// use microcore::api::{ApiBlock, Method};
/// use microcore::descriptor::Location;
///
/// let block = ApiBlock {
///     tool: "mailer",
///     type_name: "Mailer",
///     location: Location { file: "tools/mailer/src/handle.rs", line: 12 },
///     guide: None,
///     methods: &[Method { signature: "async fn send(&self, to: &str) -> Result<()>", doc: "Sends one e-mail." }],
/// };
/// assert_eq!(block.methods[0].doc, "Sends one e-mail.");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ApiBlock {
    /// The tool the type belongs to (the handle's `ToolHandle::NAME`).
    pub tool: &'static str,
    /// The type the block implements (`Db`, `Subscription`, ...).
    pub type_name: &'static str,
    /// Where the block is.
    pub location: Location,
    /// The tool's `AI.md` (when to use it, pitfalls, one example), given
    /// on the block of its handle.
    pub guide: Option<&'static str>,
    /// Its `pub fn`s, in source order.
    pub methods: &'static [Method],
}

/// Every `#[tool] impl` block linked into the binary.
#[linkme::distributed_slice]
pub static TOOL_APIS: [ApiBlock];

/// Every block of the linked tools, sorted by tool, then file and line, so
/// the order does not depend on the linker.
pub fn blocks() -> Vec<&'static ApiBlock> {
    let mut blocks: Vec<&ApiBlock> = TOOL_APIS.iter().collect();
    blocks.sort_by_key(|b| (b.tool, b.location.file, b.location.line));
    blocks
}
