//! The source of a generated plugin file: a route (handler, reply type,
//! path parameters, a JSON body for POST/PUT/PATCH), an event subscription
//! (its own payload type), both, or neither; and a unit test that builds
//! the plugin as a struct literal of test tools and calls each handler.

use std::fmt::Write as _;

use crate::names::{Route, upper_camel};

/// What a plugin file offers.
#[derive(Debug)]
pub(crate) struct PluginSpec<'a> {
    /// Its domain folder.
    pub(crate) domain: &'a str,
    /// Its file name, without `.rs`.
    pub(crate) name: &'a str,
    /// `--route`.
    pub(crate) route: Option<&'a Route>,
    /// `--event`.
    pub(crate) topic: Option<&'a str>,
}

/// Names the generated code uses, computed once.
struct Names {
    plugin: String,
    qualified: String,
    reply: String,
    request: String,
    params: String,
    payload: String,
    on_event: String,
}

impl Names {
    fn new(spec: &PluginSpec<'_>) -> Self {
        let plugin = upper_camel(spec.name);
        let reply = format!("{plugin}Reply");
        let request = format!("{plugin}Request");
        let params = format!("{plugin}Params");
        let mut payload = spec.topic.map(upper_camel).unwrap_or_default();
        if [&plugin, &reply, &request, &params].contains(&&payload) {
            payload.push_str("Payload");
        }
        Self {
            qualified: format!("{}.{plugin}", spec.domain),
            on_event: format!("on_{}", spec.topic.unwrap_or_default().replace('.', "_")),
            plugin,
            reply,
            request,
            params,
            payload,
        }
    }
}

/// The file's source.
pub(crate) fn source(spec: &PluginSpec<'_>) -> String {
    let n = Names::new(spec);
    let mut out = String::new();
    module_doc(&mut out, spec, &n);
    out.push_str("\nuse crate::prelude::*;\n\n");
    plugin_struct(&mut out, spec, &n);
    if let Some(route) = spec.route {
        route_types(&mut out, route, &n);
    }
    if let Some(topic) = spec.topic {
        let _ = write!(
            out,
            "\n/// What this plugin reads from `{topic}`: its own type, holding only the\n/// fields it needs (the publisher may send more).\n#[derive(Debug, Deserialize, ToSchema)]\npub struct {payload} {{\n    id: i64,\n}}\n",
            payload = n.payload
        );
    }
    on_boot(&mut out, spec, &n);
    handlers(&mut out, spec, &n);
    tests(&mut out, spec, &n);
    out
}

fn module_doc(out: &mut String, spec: &PluginSpec<'_>, n: &Names) {
    let what = match (spec.route, spec.topic) {
        (Some(r), Some(t)) => format!("{} {}, and on `{t}`", r.method_upper(), r.path),
        (Some(r), None) => format!("{} {}", r.method_upper(), r.path),
        (None, Some(t)) => format!("On `{t}`"),
        (None, None) => "A feature".to_string(),
    };
    let _ = writeln!(
        out,
        "//! {what}: the `{}` plugin. Say here what it does and why.",
        n.qualified
    );
}

fn plugin_struct(out: &mut String, spec: &PluginSpec<'_>, n: &Names) {
    let doc = match (spec.route, spec.topic) {
        (Some(r), Some(t)) => format!(
            "Serves `{} {}` and handles `{t}`.",
            r.method_upper(),
            r.path
        ),
        (Some(r), None) => format!("Serves `{} {}`.", r.method_upper(), r.path),
        (None, Some(t)) => format!("Handles `{t}` events."),
        (None, None) => "Runs at boot.".to_string(),
    };
    let _ = writeln!(out, "/// {doc}\n#[plugin]\npub struct {} {{", n.plugin);
    for field in fields(spec) {
        let _ = writeln!(out, "    {field},");
    }
    out.push_str("}\n");
}

/// The plugin's fields: the tools it needs.
fn fields(spec: &PluginSpec<'_>) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if spec.route.is_some() {
        fields.push("http: Http");
    }
    if spec.topic.is_some() {
        fields.push("bus: EventBus");
    }
    if spec.topic.is_some() || spec.route.is_none() {
        fields.push("log: Log");
    }
    fields
}

/// The same fields as test tools, for the struct literal in the test.
fn test_fields(spec: &PluginSpec<'_>) -> Vec<&'static str> {
    fields(spec)
        .into_iter()
        .map(|f| match f {
            "http: Http" => "http: Http::detached()",
            "bus: EventBus" => "bus: EventBus::recording()",
            _ => "log: Log::default()",
        })
        .collect()
}

fn route_types(out: &mut String, route: &Route, n: &Names) {
    if route.params.len() > 1 {
        let _ = writeln!(
            out,
            "\n/// The parameters of `{}`.\n#[derive(Debug, Deserialize, ToSchema)]\npub struct {} {{",
            route.path, n.params
        );
        for p in &route.params {
            let _ = writeln!(out, "    {p}: String,");
        }
        out.push_str("}\n");
    }
    if route.has_body() {
        let _ = write!(
            out,
            "\n/// The body of a `{} {}` request.\n#[derive(Debug, Deserialize, Validate, ToSchema)]\npub struct {} {{\n    /// 1 to 100 characters.\n    #[validate(length(min = 1, max = 100))]\n    name: String,\n}}\n",
            route.method_upper(),
            route.path,
            n.request
        );
    }
    let _ = write!(
        out,
        "\n/// The answer to `{} {}`.\n#[derive(Debug, Serialize, ToSchema)]\npub struct {} {{\n    message: String,\n}}\n",
        route.method_upper(),
        route.path,
        n.reply
    );
}

fn on_boot(out: &mut String, spec: &PluginSpec<'_>, n: &Names) {
    let _ = writeln!(
        out,
        "\nimpl Plugin for {} {{\n    async fn on_boot(self: Arc<Self>) -> Result<()> {{",
        n.plugin
    );
    if let Some(route) = spec.route {
        let _ = writeln!(
            out,
            "        self.http.{}({:?}, &self, Self::execute);",
            route.method, route.path
        );
    }
    if let Some(topic) = spec.topic {
        let _ = writeln!(
            out,
            "        self.bus\n            .subscribe({topic:?}, &self, Self::{})\n            .with_schema()\n            .await?;",
            n.on_event
        );
    }
    if spec.route.is_none() && spec.topic.is_none() {
        out.push_str("        self.log.info(\"booted\");\n");
    }
    out.push_str("        Ok(())\n    }\n}\n");
}

/// The handler's extra arguments, the values the test passes, and the
/// `format!` arguments of its message.
struct Inputs {
    args: Vec<String>,
    test_values: Vec<String>,
    format: String,
    format_args: Vec<String>,
    expected: String,
}

fn inputs(route: &Route, n: &Names) -> Inputs {
    let base = format!("hello from {}", n.qualified);
    let mut i = Inputs {
        args: Vec::new(),
        test_values: Vec::new(),
        format: base.clone(),
        format_args: Vec::new(),
        expected: base,
    };
    match route.params.as_slice() {
        [] => {}
        [p] => {
            i.args.push(format!("Path({p}): Path<String>"));
            i.test_values.push("Path(\"1\".to_string())".to_string());
            let _ = write!(i.format, ", {p}={{{p}}}");
            let _ = write!(i.expected, ", {p}=1");
        }
        params => {
            i.args.push(format!("Path(params): Path<{}>", n.params));
            let values: Vec<String> = params
                .iter()
                .enumerate()
                .map(|(k, p)| format!("{p}: \"{}\".into()", k + 1))
                .collect();
            i.test_values
                .push(format!("Path({} {{ {} }})", n.params, values.join(", ")));
            for (k, p) in params.iter().enumerate() {
                let _ = write!(i.format, ", {p}={{}}");
                i.format_args.push(format!("params.{p}"));
                let _ = write!(i.expected, ", {p}={}", k + 1);
            }
        }
    }
    if route.has_body() {
        i.args.push(format!("Json(request): Json<{}>", n.request));
        i.test_values.push(format!(
            "Json({} {{\n                name: \"Ada\".into(),\n            }})",
            n.request
        ));
        i.format.push_str(", name={}");
        i.format_args.push("request.name".to_string());
        i.expected.push_str(", name=Ada");
    }
    i
}

fn handlers(out: &mut String, spec: &PluginSpec<'_>, n: &Names) {
    let mut methods = Vec::new();
    if let Some(route) = spec.route {
        let i = inputs(route, n);
        let args: String = i.args.iter().map(|a| format!(", {a}")).collect();
        let message = if i.format_args.is_empty() && !i.format.contains('{') {
            format!("{:?}.to_string()", i.format)
        } else if i.format_args.is_empty() {
            format!("format!({:?})", i.format)
        } else {
            format!("format!({:?}, {})", i.format, i.format_args.join(", "))
        };
        methods.push(format!(
            "    async fn execute(self: Arc<Self>{args}) -> Result<{reply}> {{\n        Ok({reply} {{\n            message: {message},\n        }})\n    }}",
            reply = n.reply
        ));
    }
    if let Some(topic) = spec.topic {
        methods.push(format!(
            "    async fn {}(self: Arc<Self>, event: Event<{}>) -> Result<()> {{\n        self.log.info(format!(\"{topic}: id {{}}\", event.payload.id));\n        Ok(())\n    }}",
            n.on_event, n.payload
        ));
    }
    if !methods.is_empty() {
        let _ = writeln!(out, "\nimpl {} {{\n{}\n}}", n.plugin, methods.join("\n\n"));
    }
}

fn tests(out: &mut String, spec: &PluginSpec<'_>, n: &Names) {
    let literal = format!(
        "Arc::new({} {{\n            {},\n        }})",
        n.plugin,
        test_fields(spec).join(",\n            ")
    );
    let mut cases = Vec::new();
    if let Some(route) = spec.route {
        let i = inputs(route, n);
        let call = if i.test_values.is_empty() {
            "plugin.execute()".to_string()
        } else {
            format!(
                "plugin\n            .execute(\n            {},\n        )",
                i.test_values
                    .iter()
                    .map(|v| format!("    {v}"))
                    .collect::<Vec<_>>()
                    .join(",\n            ")
            )
        };
        cases.push(format!(
            "    #[tokio::test]\n    async fn answers() {{\n        let plugin = {literal};\n        let reply = {call}.await.unwrap();\n        assert_eq!(reply.message, {:?});\n    }}",
            i.expected
        ));
    }
    if let Some(topic) = spec.topic {
        cases.push(format!(
            "    #[tokio::test]\n    async fn handles_{}() {{\n        let plugin = {literal};\n        let envelope = microcore_event_bus::Envelope::new({topic:?}, serde_json::json!({{\"id\": 7}}), \"test\");\n        let event = Event::decode(Arc::new(envelope), 1).unwrap();\n        plugin.{}(event).await.unwrap();\n    }}",
            topic.replace('.', "_"),
            n.on_event
        ));
    }
    if spec.route.is_none() && spec.topic.is_none() {
        cases.push(format!(
            "    #[tokio::test]\n    async fn boots() {{\n        let plugin = {literal};\n        plugin.on_boot().await.unwrap();\n    }}"
        ));
    }
    let _ = write!(
        out,
        "\n#[cfg(test)]\nmod tests {{\n    use super::*;\n\n{}\n}}\n",
        cases.join("\n\n")
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::route;

    #[test]
    fn a_route_plugin_has_a_handler_and_a_test_calling_it() {
        let r = route("GET /hello").unwrap();
        let src = source(&PluginSpec {
            domain: "demo",
            name: "hello",
            route: Some(&r),
            topic: None,
        });
        assert!(
            src.contains("pub struct Hello {\n    http: Http,\n}"),
            "{src}"
        );
        assert!(
            src.contains("self.http.get(\"/hello\", &self, Self::execute);"),
            "{src}"
        );
        assert!(src.contains("Http::detached()"), "{src}");
        assert!(
            src.contains("assert_eq!(reply.message, \"hello from demo.Hello\");"),
            "{src}"
        );
    }

    #[test]
    fn path_parameters_and_bodies_reach_the_handler_and_the_test() {
        let r = route("PUT /notes/{note_id}/tags/{tag}").unwrap();
        let src = source(&PluginSpec {
            domain: "notes",
            name: "tag_note",
            route: Some(&r),
            topic: None,
        });
        assert!(src.contains("Path(params): Path<TagNoteParams>"), "{src}");
        assert!(src.contains("Json(request): Json<TagNoteRequest>"), "{src}");
        assert!(
            src.contains("\"hello from notes.TagNote, note_id=1, tag=2, name=Ada\""),
            "{src}"
        );
    }

    #[test]
    fn an_event_payload_never_takes_the_plugin_name() {
        let src = source(&PluginSpec {
            domain: "notes",
            name: "note_created",
            route: None,
            topic: Some("note.created"),
        });
        assert!(src.contains("pub struct NoteCreated {\n    bus"), "{src}");
        assert!(src.contains("pub struct NoteCreatedPayload {"), "{src}");
        assert!(src.contains("async fn on_note_created"), "{src}");
    }
}
