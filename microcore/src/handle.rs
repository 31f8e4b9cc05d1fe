//! Tool handles: the types a plugin's fields are made of.
//!
//! A handle is the face a tool shows to plugins. Its type names the tool it
//! comes from (`const NAME`), which is how `#[plugin]` turns a struct's fields
//! into a dependency list without any registration call.

/// A cheap, clonable face of a tool, named after that tool.
///
/// Every field of a `#[plugin]` struct must have a handle type. The tool that
/// produces it is found at boot by [`ToolHandle::NAME`]; if no linked crate
/// provides it, the boot stops with a wiring error naming the field.
///
/// ```
/// use microcore::ToolHandle;
///
/// /// Sends e-mails; the `mailer` tool provides it.
/// #[derive(Clone, Debug)]
/// pub struct Mailer { /* a connection pool, a queue, ... */ }
///
/// impl ToolHandle for Mailer {
///     const NAME: &'static str = "mailer";
/// }
/// assert_eq!(<Mailer as ToolHandle>::NAME, "mailer");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tool handle",
    label = "this field's type must be a tool handle",
    note = "every field of a `#[plugin]` or `#[tool]` struct is a dependency on a tool, so its type must be a tool handle such as `Http`, `Db`, `Log` or `Config`",
    note = "a tool handle is a `Clone + Send + Sync` type with `impl microcore::ToolHandle for {Self} {{ const NAME: &'static str = \"<tool name>\"; }}`; keep plain data outside the struct or behind a tool"
)]
pub trait ToolHandle: Clone + Send + Sync + 'static {
    /// The name of the tool that provides this handle (`"http"`, `"db"`, ...).
    const NAME: &'static str;

    /// The copy of the handle given to one plugin or tool.
    ///
    /// Tools that record who calls them (metrics, route ownership) override it
    /// to tag the copy with its owner; the default is a plain clone.
    fn for_owner(&self, owner: &'static str) -> Self {
        let _ = owner;
        self.clone()
    }
}
