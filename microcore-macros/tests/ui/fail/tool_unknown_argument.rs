use microcore_macros_fixture::prelude::*;

#[derive(Clone)]
pub struct Mailer;
impl ToolHandle for Mailer {
    const NAME: &'static str = "mailer";
}

#[tool(replace)]
pub struct SmtpMailer {}

impl Tool for SmtpMailer {
    type Handle = Mailer;
    async fn setup(&self, _: &ToolContext) -> Result<Mailer> {
        Ok(Mailer)
    }
}

fn main() {}
