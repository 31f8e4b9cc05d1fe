use microcore_macros_fixture::prelude::*;

/// A log tool of our own, replacing the built-in one on purpose.
#[tool(replaces)]
pub struct QuietLog {
    config: Config,
}

impl Tool for QuietLog {
    type Handle = Log;
    async fn setup(&self, _: &ToolContext) -> Result<Log> {
        Ok(Log::default())
    }
}

fn main() {
    let app = microcore::App::linked();
    let plan = app.check().expect("replacing on purpose is sound");
    let log = plan.tools.iter().find(|t| t.name == "log").unwrap();
    assert_eq!(log.type_name, "QuietLog");
}
